// The room's signaling state machine and mesh decisions, as a pure reducer.
//
// reduce(state, event) returns the next state and the commands that the
// imperative shell (RoomSession) must carry out: open the socket, send a
// message, make or accept an offer, close a peer connection. Nothing here
// touches the DOM, a WebSocket or an RTCPeerConnection, so Vitest can drive
// every decision without a browser.

import {
  CLOSE_ROOM_FULL,
  CLOSE_TOO_LARGE,
  CLOSE_UNAUTHORIZED,
  type ClientMessage,
  type PeerSummary,
  type ServerMessage,
  type SessionDescription,
  type WireCandidate,
} from '../protocol/messages';

export type Phase = 'idle' | 'connecting' | 'joined' | 'reconnecting' | 'left';

/** Our side of one peer connection. */
export type Role = 'offerer' | 'answerer';

export interface RemotePeer {
  id: string;
  name: string | null;
  /** The server marked this member's messages hidden (a recorder): never a tile. */
  hidden: boolean;
  /** Null until a pair exists: a peer-joined newcomer is expected to offer. */
  role: Role | null;
  /** A remote track arrived on the pair. */
  media: boolean;
  /** ICE reached connected or completed at least once since the last failure. */
  connected: boolean;
  /** ICE restarts sent (offerer) or re-offers received (answerer) on this pair. */
  iceRestarts: number;
  /** A message shown on the tile, e.g. after an ICE failure. */
  problem: string | null;
}

/**
 * A connection to a hidden member (the recorder) kept across a WebSocket drop.
 * Peer ids belong to one signaling connection (the server may even give the
 * old id to someone else), so it is keyed by a local key, never by a server
 * id: nothing from the room reaches it again. Its media keeps flowing and
 * the recorder re-attaches it to our new id by name.
 */
export interface KeptPeer {
  key: string;
  /** The hidden member's id when the connection was kept, for logs. */
  formerId: string;
}

export type EndCode = 'hangup' | 'room-full' | 'unauthorized' | 'too-large';

export interface EndReason {
  code: EndCode;
  message: string;
}

export interface RoomState {
  phase: Phase;
  room: string;
  name: string | null;
  selfId: string | null;
  peers: Readonly<Record<string, RemotePeer>>;
  /** Connections to hidden members kept from before the last WebSocket drop(s), by key. */
  kept: Readonly<Record<string, KeptPeer>>;
  /** Keys handed out so far, so that a key is never reused within a visit. */
  keptSerial: number;
  recording: boolean;
  /** Consecutive connection attempts that failed; 0 once welcomed. */
  failedAttempts: number;
  /** Delay of the pending reconnection, for display. */
  retryInMs: number | null;
  /** Why the room server is not reachable right now (shown while reconnecting). */
  connectionProblem: string | null;
  /** Set once phase is 'left': why we went back to the lobby. */
  end: EndReason | null;
  /** The last non-fatal server error, for display. */
  notice: string | null;
}

export type IceState = 'new' | 'checking' | 'connected' | 'completed' | 'disconnected' | 'failed' | 'closed';

export type RoomEvent =
  | { type: 'start'; room: string; name: string | null }
  | { type: 'socket-open' }
  | { type: 'socket-closed'; code: number; reason: string }
  | { type: 'retry-due' }
  | { type: 'server'; message: ServerMessage }
  | { type: 'hangup' }
  | { type: 'media-arrived'; peerId: string }
  | { type: 'ice-state'; peerId: string; state: IceState }
  | { type: 'kept-state'; key: string; state: IceState };

export type Command =
  | { type: 'open-socket' }
  | { type: 'close-socket' }
  | { type: 'send'; message: ClientMessage }
  | { type: 'schedule-retry'; delayMs: number }
  | { type: 'cancel-retry' }
  | { type: 'make-offer'; peerId: string; iceRestart: boolean }
  | { type: 'accept-offer'; peerId: string; hidden: boolean; offer: SessionDescription }
  | { type: 'accept-answer'; peerId: string; answer: SessionDescription }
  | { type: 'add-candidate'; peerId: string; candidate: WireCandidate | null }
  | { type: 'close-peer'; peerId: string }
  /** Move a live pair out of reach of server ids, under `key` (see KeptPeer). */
  | { type: 'keep-peer'; peerId: string; key: string }
  | { type: 'close-kept'; key: string }
  /** Every pair keyed by a server id; kept ones stay. */
  | { type: 'close-live-peers' }
  /** Every pair, kept ones included. */
  | { type: 'close-all-peers' };

export interface Step {
  state: RoomState;
  commands: Command[];
}

/** One ICE restart per pair, then a message on the tile (see the issue). */
export const MAX_ICE_RESTARTS = 1;

const RETRY_BASE_MS = 500;
const RETRY_MAX_MS = 10_000;

/** Backoff before attempt number `failures + 1`: 0.5 s, 1 s, 2 s, ... capped at 10 s. */
export function retryDelayMs(failures: number): number {
  const exp = Math.max(0, failures - 1);
  return Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.min(exp, 16));
}

export const initialState: RoomState = {
  phase: 'idle',
  room: '',
  name: null,
  selfId: null,
  peers: {},
  kept: {},
  keptSerial: 0,
  recording: false,
  failedAttempts: 0,
  retryInMs: null,
  connectionProblem: null,
  end: null,
  notice: null,
};

const FATAL_MESSAGES: Record<Exclude<EndCode, 'hangup'>, string> = {
  'room-full': 'This room is full. Try again later or pick another room.',
  unauthorized: 'You are not allowed to join this room.',
  'too-large': 'The room server rejected a message as too large.',
};

export const PROBLEM_RESTARTING = 'Connection lost, reconnecting…';
export const PROBLEM_WAITING = 'Connection lost, waiting for the other side to reconnect…';
export const PROBLEM_FAILED = 'Connection to this person failed. Check your network, then rejoin.';

function newPeer(summary: PeerSummary, hidden: boolean, role: Role | null): RemotePeer {
  return { id: summary.id, name: summary.name, hidden, role, media: false, connected: false, iceRestarts: 0, problem: null };
}

function withPeer(state: RoomState, peer: RemotePeer): RoomState {
  return { ...state, peers: { ...state.peers, [peer.id]: peer } };
}

function withoutPeers(state: RoomState, ids: string[]): RoomState {
  const peers = { ...state.peers };
  for (const id of ids) delete peers[id];
  return { ...state, peers };
}

function endRoom(state: RoomState, end: EndReason, extra: Command[] = []): Step {
  return {
    state: { ...state, phase: 'left', peers: {}, kept: {}, recording: false, retryInMs: null, end },
    commands: [...extra, { type: 'cancel-retry' }, { type: 'close-all-peers' }, { type: 'close-socket' }],
  };
}

function fatalCode(code: string): Exclude<EndCode, 'hangup'> | null {
  return code === 'room-full' || code === 'unauthorized' || code === 'too-large' ? code : null;
}

function closeCodeToEnd(code: number): Exclude<EndCode, 'hangup'> | null {
  if (code === CLOSE_UNAUTHORIZED) return 'unauthorized';
  if (code === CLOSE_ROOM_FULL) return 'room-full';
  if (code === CLOSE_TOO_LARGE) return 'too-large';
  return null;
}

function onServer(state: RoomState, msg: ServerMessage): Step {
  const none: Step = { state, commands: [] };
  switch (msg.type) {
    case 'welcome': {
      // The newcomer offers to every visible member already in the room.
      // Kept pairs stay even when `recording` is false: after a server
      // restart the recorder may rejoin after us.
      let next: RoomState = {
        ...state,
        phase: 'joined',
        selfId: msg.id,
        peers: {},
        recording: msg.recording,
        failedAttempts: 0,
        retryInMs: null,
        connectionProblem: null,
      };
      const commands: Command[] = [];
      for (const p of msg.peers) {
        if (p.id === msg.id || next.peers[p.id]) continue;
        next = withPeer(next, newPeer(p, false, 'offerer'));
        commands.push({ type: 'make-offer', peerId: p.id, iceRestart: false });
      }
      return { state: next, commands };
    }
    case 'peer-joined': {
      if (msg.peer.id === state.selfId || state.peers[msg.peer.id]) return none;
      // Existing members wait for the newcomer's offer.
      return { state: withPeer(state, newPeer(msg.peer, false, null)), commands: [] };
    }
    case 'peer-left': {
      if (!state.peers[msg.id]) return none;
      return { state: withoutPeers(state, [msg.id]), commands: [{ type: 'close-peer', peerId: msg.id }] };
    }
    case 'offer': {
      if (msg.from === state.selfId) return none;
      const known = state.peers[msg.from];
      let peer: RemotePeer;
      if (!known) {
        // A hidden member is never announced; a visible one normally is, but
        // an offer is enough to know it exists.
        peer = newPeer({ id: msg.from, name: null }, msg.hidden, 'answerer');
      } else if (known.role === null) {
        peer = { ...known, hidden: known.hidden || msg.hidden, role: 'answerer' };
      } else {
        // A later offer on the same pair: renegotiation or an ICE restart.
        peer = { ...known, hidden: known.hidden || msg.hidden, iceRestarts: known.iceRestarts + 1 };
      }
      return {
        state: withPeer(state, peer),
        commands: [{ type: 'accept-offer', peerId: msg.from, hidden: peer.hidden, offer: msg.offer }],
      };
    }
    case 'answer': {
      if (!state.peers[msg.from]) return none;
      return { state, commands: [{ type: 'accept-answer', peerId: msg.from, answer: msg.answer }] };
    }
    case 'candidate': {
      if (!state.peers[msg.from]) return none;
      return { state, commands: [{ type: 'add-candidate', peerId: msg.from, candidate: msg.candidate }] };
    }
    case 'recording': {
      if (msg.active) return { state: { ...state, recording: true }, commands: [] };
      // The last hidden member left; hidden members get no peer-left, so
      // this is when their pairs are closed.
      const hiddenIds = Object.values(state.peers)
        .filter((p) => p.hidden)
        .map((p) => p.id);
      // Kept connections went to a hidden member too, and none is left.
      const closeKept = closeAllKept(state);
      return {
        state: { ...withoutPeers(closeKept.state, hiddenIds), recording: false },
        commands: [...hiddenIds.map((peerId): Command => ({ type: 'close-peer', peerId })), ...closeKept.commands],
      };
    }
    case 'error': {
      const fatal = fatalCode(msg.code);
      if (fatal) return endRoom(state, { code: fatal, message: FATAL_MESSAGES[fatal] });
      // unknown-peer happens when a peer leaves while we still talk to it;
      // rate-limited and the rest are shown but do not end the call.
      if (msg.code === 'unknown-peer') return none;
      return { state: { ...state, notice: `Room server: ${msg.code}${msg.message ? ` (${msg.message})` : ''}` }, commands: [] };
    }
  }
}

function closeAllKept(state: RoomState): Step {
  const keys = Object.keys(state.kept);
  if (keys.length === 0) return { state, commands: [] };
  return { state: { ...state, kept: {} }, commands: keys.map((key): Command => ({ type: 'close-kept', key })) };
}

/**
 * On a WebSocket drop: pairs to visible members die with our id (they see us
 * leave and we offer or get offers anew), but a connected pair to a hidden
 * member is kept, so that the recorder's file goes on across the drop.
 */
function keepHidden(state: RoomState): Step {
  const kept = { ...state.kept };
  let keptSerial = state.keptSerial;
  const commands: Command[] = [];
  for (const p of Object.values(state.peers)) {
    if (!p.hidden || !p.connected) continue;
    keptSerial += 1;
    const key = `kept-${keptSerial}`;
    kept[key] = { key, formerId: p.id };
    commands.push({ type: 'keep-peer', peerId: p.id, key });
  }
  commands.push({ type: 'close-live-peers' });
  return { state: { ...state, peers: {}, kept, keptSerial }, commands };
}

function onKeptState(state: RoomState, key: string, ice: IceState): Step {
  // 'disconnected' may come back by itself (the recorder waits for it); failed or closed do not.
  if (!state.kept[key] || (ice !== 'failed' && ice !== 'closed')) return { state, commands: [] };
  const kept = { ...state.kept };
  delete kept[key];
  return { state: { ...state, kept }, commands: [{ type: 'close-kept', key }] };
}

function onIceState(state: RoomState, peerId: string, ice: IceState): Step {
  const peer = state.peers[peerId];
  if (!peer) return { state, commands: [] };
  if (ice === 'connected' || ice === 'completed') {
    const next = withPeer(state, { ...peer, connected: true, problem: null });
    // A hidden member reached us on our current id: the recorder made a new
    // connection rather than re-attaching a kept one, so the kept ones are
    // replaced (kept, they would be recorded twice). Closed only once the new
    // one is up, so that the recording has no hole.
    if (peer.hidden && !peer.connected) return closeAllKept(next);
    return { state: next, commands: [] };
  }
  if (ice !== 'failed') return { state, commands: [] };
  // A hidden member (the gateway) offers, so it restarts; no tile to mark.
  if (peer.hidden) return { state: withPeer(state, { ...peer, connected: false }), commands: [] };
  if (peer.iceRestarts < MAX_ICE_RESTARTS) {
    if (peer.role === 'offerer') {
      return {
        state: withPeer(state, { ...peer, connected: false, iceRestarts: peer.iceRestarts + 1, problem: PROBLEM_RESTARTING }),
        commands: [{ type: 'make-offer', peerId, iceRestart: true }],
      };
    }
    // Only the side that offered restarts, so the two never offer at once.
    return { state: withPeer(state, { ...peer, connected: false, problem: PROBLEM_WAITING }), commands: [] };
  }
  return { state: withPeer(state, { ...peer, connected: false, problem: PROBLEM_FAILED }), commands: [] };
}

export function reduce(state: RoomState, event: RoomEvent): Step {
  switch (event.type) {
    case 'start':
      return {
        state: { ...initialState, phase: 'connecting', room: event.room, name: event.name },
        commands: [{ type: 'open-socket' }],
      };
    case 'socket-open': {
      if (state.phase !== 'connecting' && state.phase !== 'reconnecting') return { state, commands: [] };
      const join: ClientMessage = state.name ? { type: 'join', room: state.room, name: state.name } : { type: 'join', room: state.room };
      return { state, commands: [{ type: 'send', message: join }] };
    }
    case 'socket-closed': {
      if (state.phase === 'idle' || state.phase === 'left') return { state, commands: [] };
      const fatal = closeCodeToEnd(event.code);
      if (fatal) return endRoom(state, { code: fatal, message: FATAL_MESSAGES[fatal] });
      // Lost or never reached: our pairs to visible members die with our id,
      // since on rejoin the server gives us a fresh one and the others see us
      // leave; connected pairs to hidden members are kept (keepHidden).
      const keep = keepHidden(state);
      const failedAttempts = state.failedAttempts + 1;
      const delayMs = retryDelayMs(failedAttempts);
      const connectionProblem =
        state.phase === 'joined'
          ? 'Lost the connection to the room server.'
          : 'Cannot reach the room server.';
      return {
        state: {
          ...keep.state,
          phase: 'reconnecting',
          selfId: null,
          recording: false,
          failedAttempts,
          retryInMs: delayMs,
          connectionProblem,
        },
        commands: [...keep.commands, { type: 'schedule-retry', delayMs }],
      };
    }
    case 'retry-due':
      if (state.phase !== 'reconnecting') return { state, commands: [] };
      return { state: { ...state, retryInMs: null }, commands: [{ type: 'open-socket' }] };
    case 'server':
      if (state.phase === 'idle' || state.phase === 'left') return { state, commands: [] };
      if (state.phase !== 'joined' && event.message.type !== 'welcome' && event.message.type !== 'error') {
        return { state, commands: [] };
      }
      return onServer(state, event.message);
    case 'hangup': {
      if (state.phase === 'idle' || state.phase === 'left') return { state, commands: [] };
      const leave: Command[] = state.phase === 'joined' ? [{ type: 'send', message: { type: 'leave' } }] : [];
      return endRoom(state, { code: 'hangup', message: '' }, leave);
    }
    case 'media-arrived': {
      const peer = state.peers[event.peerId];
      if (!peer || peer.media) return { state, commands: [] };
      return { state: withPeer(state, { ...peer, media: true }), commands: [] };
    }
    case 'ice-state':
      return onIceState(state, event.peerId, event.state);
    case 'kept-state':
      return onKeptState(state, event.key, event.state);
  }
}

/** Visible peers that get a tile: media arrived, the pair connected, or there is a problem to show. */
export function tilePeers(state: RoomState): RemotePeer[] {
  return Object.values(state.peers).filter((p) => !p.hidden && (p.media || p.connected || p.problem !== null));
}
