// The watch view's pure logic: page parameters, WHEP answers and errors, and the retry policy of
// a viewer that plays a room through the gateway's WHEP endpoint without joining it.
//
// No browser objects here: WhepPlayer.ts does the RTCPeerConnection and fetch() and feeds
// events to reduce(); the component renders the state.

export interface WatchParams {
  room: string;
  /** The WHEP endpoint, e.g. http://gateway:8081/whep/ROOM (?whep= base, default the page's host:8081). */
  endpoint: string;
  /** A viewer token (JWT) or the API token, from ?token=; '' asks the user. */
  token: string;
}

const ROOM = /^[A-Za-z0-9_-]{1,64}$/;

/** ?room=NAME&watch=1[&token=T][&whep=http://host:port]: null when this is not a watch page. */
export function parseWatchParams(search: string, pageHost: string, pageProtocol: string): WatchParams | null {
  const q = new URLSearchParams(search);
  if (q.get('watch') !== '1') return null;
  const room = q.get('room') ?? '';
  let base = q.get('whep') ?? `${pageProtocol === 'https:' ? 'https' : 'http'}://${pageHost.replace(/:\d+$/, '')}:8081`;
  try {
    const url = new URL(base);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') base = '';
    else base = url.origin;
  } catch {
    base = '';
  }
  return {
    room: ROOM.test(room) ? room : '',
    endpoint: base && ROOM.test(room) ? `${base}/whep/${encodeURIComponent(room)}` : '',
    token: q.get('token') ?? '',
  };
}

export type WatchState =
  | { kind: 'idle' }
  | { kind: 'connecting'; attempt: number }
  | { kind: 'playing'; attempt: number }
  | { kind: 'waiting'; attempt: number; delayMs: number; message: string }
  | { kind: 'needsToken'; message: string }
  | { kind: 'failed'; message: string }
  | { kind: 'stopped' };

export type WatchEvent =
  | { type: 'start' }
  | { type: 'answered' }
  | { type: 'mediaConnected' }
  | { type: 'httpError'; status: number; body: string }
  | { type: 'networkError'; message: string }
  | { type: 'connectionLost' }
  | { type: 'retryNow' }
  | { type: 'stop' };

export type WatchCommand =
  | { type: 'connect' } // new RTCPeerConnection, POST the offer
  | { type: 'hangUp' } // DELETE the session (if any), close the connection
  | { type: 'scheduleRetry'; delayMs: number };

export const initialWatchState: WatchState = { kind: 'idle' };

/** 1, 2, 4, 8, 16, 30, 30... seconds; a room that is not recording is asked half as often. */
export function retryDelayMs(attempt: number, notRecording = false): number {
  const base = Math.min(30000, 1000 * 2 ** Math.max(0, attempt - 1));
  return notRecording ? Math.min(60000, base * 2) : base;
}

/** The API's error shape {"error", "message"}, or the raw text. */
export function errorMessage(body: string): string {
  try {
    const parsed = JSON.parse(body) as { message?: unknown };
    if (typeof parsed.message === 'string') return parsed.message;
  } catch {
    /* not JSON */
  }
  return body.slice(0, 200);
}

/** What a WHEP error status means to a viewer. */
export function describeStatus(status: number, body: string): { message: string; retry: boolean; token: boolean } {
  const detail = errorMessage(body);
  if (status === 401) return { message: `The token was refused: ${detail}`, retry: false, token: true };
  if (status === 403) return { message: `This token does not open this room: ${detail}`, retry: false, token: true };
  if (status === 404) return { message: 'This room is not being recorded right now; waiting for it.', retry: true, token: false };
  if (status >= 500) return { message: `The gateway cannot serve the room now (${status}): ${detail}`, retry: true, token: false };
  return { message: `The gateway refused to play the room (${status}): ${detail}`, retry: false, token: false };
}

function attemptOf(s: WatchState): number {
  return s.kind === 'connecting' || s.kind === 'playing' || s.kind === 'waiting' ? s.attempt : 0;
}

export function reduce(state: WatchState, event: WatchEvent): { state: WatchState; commands: WatchCommand[] } {
  if (event.type === 'stop') return { state: { kind: 'stopped' }, commands: [{ type: 'hangUp' }] };
  if (state.kind === 'stopped') return { state, commands: [] };
  switch (event.type) {
    case 'start':
      return { state: { kind: 'connecting', attempt: 1 }, commands: [{ type: 'connect' }] };
    case 'retryNow':
      if (state.kind !== 'waiting') return { state, commands: [] };
      return { state: { kind: 'connecting', attempt: state.attempt + 1 }, commands: [{ type: 'connect' }] };
    case 'answered':
      return { state, commands: [] };
    case 'mediaConnected':
      // A working session resets the backoff.
      return state.kind === 'connecting' ? { state: { kind: 'playing', attempt: 0 }, commands: [] } : { state, commands: [] };
    case 'httpError': {
      if (state.kind !== 'connecting') return { state, commands: [] };
      const d = describeStatus(event.status, event.body);
      if (d.token) return { state: { kind: 'needsToken', message: d.message }, commands: [{ type: 'hangUp' }] };
      if (!d.retry) return { state: { kind: 'failed', message: d.message }, commands: [{ type: 'hangUp' }] };
      const delayMs = retryDelayMs(state.attempt, event.status === 404);
      return {
        state: { kind: 'waiting', attempt: state.attempt, delayMs, message: d.message },
        commands: [{ type: 'hangUp' }, { type: 'scheduleRetry', delayMs }],
      };
    }
    case 'networkError':
    case 'connectionLost': {
      if (state.kind !== 'connecting' && state.kind !== 'playing') return { state, commands: [] };
      const attempt = Math.max(1, attemptOf(state));
      const delayMs = retryDelayMs(attempt);
      const message =
        event.type === 'networkError' ? `Cannot reach the gateway: ${event.message}` : 'The connection to the gateway was lost; reconnecting.';
      return {
        state: { kind: 'waiting', attempt, delayMs, message },
        commands: [{ type: 'hangUp' }, { type: 'scheduleRetry', delayMs }],
      };
    }
  }
}
