// Acquires, toggles and releases the local camera and microphone.

import { classifyMediaError, describeMediaProblem, type MediaKind, type MediaProblem, type MediaProblemKind } from './mediaProblem';

export interface LocalMediaState {
  stream: MediaStream | null;
  hasAudio: boolean;
  hasVideo: boolean;
  micOn: boolean;
  cameraOn: boolean;
  problem: MediaProblem | null;
}

function errorName(err: unknown): string | undefined {
  const name = typeof err === 'object' && err !== null ? (err as { name?: unknown }).name : undefined;
  return typeof name === 'string' ? name : undefined;
}

/**
 * One owner of the local tracks. Muting flips track.enabled, so peers get
 * silence or black frames and no renegotiation is needed.
 */
export class LocalMedia {
  private state: LocalMediaState = { stream: null, hasAudio: false, hasVideo: false, micOn: false, cameraOn: false, problem: null };
  private readonly listeners = new Set<() => void>();

  /**
   * Asks for both devices, then each alone, so that a missing camera still
   * leaves the microphone. Resolves once it is decided what we have; never rejects.
   */
  async acquire(): Promise<LocalMediaState> {
    this.stop();
    const md = typeof navigator !== 'undefined' ? navigator.mediaDevices : undefined;
    if (!md?.getUserMedia) {
      return this.set(null, describeMediaProblem('unsupported', ['audio', 'video']));
    }
    let firstProblem: MediaProblemKind = 'other';
    try {
      return this.set(await md.getUserMedia({ audio: true, video: true }), null);
    } catch (err) {
      firstProblem = classifyMediaError(errorName(err));
      console.info('roomcast: camera + microphone unavailable', err);
    }
    const tracks: MediaStreamTrack[] = [];
    for (const kind of ['audio', 'video'] as MediaKind[]) {
      try {
        const s = await md.getUserMedia(kind === 'audio' ? { audio: true } : { video: true });
        tracks.push(...s.getTracks());
      } catch {
        // Reported below as missing.
      }
    }
    const stream = tracks.length > 0 ? new MediaStream(tracks) : null;
    const missing = (['audio', 'video'] as MediaKind[]).filter((k) => !tracks.some((t) => t.kind === k));
    return this.set(stream, describeMediaProblem(firstProblem, missing));
  }

  get current(): LocalMediaState {
    return this.state;
  }

  setMic(on: boolean): void {
    for (const t of this.state.stream?.getAudioTracks() ?? []) t.enabled = on;
    this.update({ micOn: on && this.state.hasAudio });
  }

  setCamera(on: boolean): void {
    for (const t of this.state.stream?.getVideoTracks() ?? []) t.enabled = on;
    this.update({ cameraOn: on && this.state.hasVideo });
  }

  /** Stops every track: the camera light goes off. */
  stop(): void {
    for (const t of this.state.stream?.getTracks() ?? []) t.stop();
    if (this.state.stream) this.update({ stream: null, hasAudio: false, hasVideo: false, micOn: false, cameraOn: false });
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private set(stream: MediaStream | null, problem: MediaProblem | null): LocalMediaState {
    const hasAudio = !!stream && stream.getAudioTracks().length > 0;
    const hasVideo = !!stream && stream.getVideoTracks().length > 0;
    this.update({ stream, hasAudio, hasVideo, micOn: hasAudio, cameraOn: hasVideo, problem });
    return this.state;
  }

  private update(patch: Partial<LocalMediaState>): void {
    this.state = { ...this.state, ...patch };
    for (const l of this.listeners) l();
  }
}
