// Turns getUserMedia outcomes into the message shown to the user; no DOM here.

export type MediaKind = 'audio' | 'video';

export type MediaProblemKind = 'denied' | 'absent' | 'busy' | 'unsupported' | 'other';

export interface MediaProblem {
  kind: MediaProblemKind;
  /** The kinds we could not get. */
  missing: MediaKind[];
  /** Why, in one sentence. */
  reason: string;
  /** Why, and what the user can do: shown before joining. */
  message: string;
  /** What it means once in the room. */
  inRoom: string;
}

/** Maps a DOMException name from getUserMedia to a problem kind. */
export function classifyMediaError(name: string | undefined): MediaProblemKind {
  switch (name) {
    case 'NotAllowedError':
    case 'SecurityError':
    case 'PermissionDeniedError':
      return 'denied';
    case 'NotFoundError':
    case 'OverconstrainedError':
    case 'DevicesNotFoundError':
      return 'absent';
    case 'NotReadableError':
    case 'AbortError':
    case 'TrackStartError':
      return 'busy';
    case 'TypeError':
    case 'NotSupportedError':
      return 'unsupported';
    default:
      return 'other';
  }
}

function what(missing: MediaKind[]): string {
  if (missing.length === 2) return 'camera and microphone';
  return missing[0] === 'video' ? 'camera' : 'microphone';
}

/** The user-facing sentence for missing devices; null when nothing is missing. */
export function describeMediaProblem(kind: MediaProblemKind, missing: MediaKind[]): MediaProblem | null {
  if (missing.length === 0) return null;
  const devices = what(missing);
  const Devices = devices[0]!.toUpperCase() + devices.slice(1);
  const watch = missing.length === 2 ? 'You can still join to watch and listen.' : `You can still join without your ${devices}.`;
  let reason: string;
  switch (kind) {
    case 'denied':
      reason = `${Devices} access was denied. Allow it in the browser's site settings and try again.`;
      break;
    case 'absent':
      reason = `No ${devices} found.`;
      break;
    case 'busy':
      reason = `Your ${devices} could not be started; another application may be using it.`;
      break;
    case 'unsupported':
      reason = `This page cannot use a ${devices}: it needs a secure (https or localhost) address and a recent browser.`;
      break;
    default:
      reason = `Your ${devices} could not be opened.`;
  }
  const inRoom =
    missing.length === 2
      ? `${reason} You are watching and listening only.`
      : `${reason} The others ${missing[0] === 'video' ? 'cannot see you' : 'cannot hear you'}.`;
  return { kind, missing, reason, message: `${reason} ${watch}`, inRoom };
}
