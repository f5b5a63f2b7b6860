// Room protocol v1 message shapes, name rules and the parser of server messages.
// See shared/specs/room-protocol.md; this module has no DOM dependency.

export interface SessionDescription {
  type: 'offer' | 'answer';
  sdp: string;
}

/** The wire form of a trickled candidate: exactly the three fields of the spec. */
export interface WireCandidate {
  candidate: string;
  sdpMid: string | null;
  sdpMLineIndex: number | null;
}

export interface PeerSummary {
  id: string;
  name: string | null;
}

export type ClientMessage =
  | { type: 'join'; room: string; name?: string; hidden?: boolean; token?: string }
  | { type: 'offer'; to: string; offer: SessionDescription }
  | { type: 'answer'; to: string; answer: SessionDescription }
  | { type: 'candidate'; to: string; candidate: WireCandidate | null }
  | { type: 'leave' };

export type ServerMessage =
  | { type: 'welcome'; id: string; room: string; peers: PeerSummary[]; recording: boolean }
  | { type: 'peer-joined'; peer: PeerSummary }
  | { type: 'peer-left'; id: string }
  | { type: 'offer'; from: string; hidden: boolean; offer: SessionDescription }
  | { type: 'answer'; from: string; hidden: boolean; answer: SessionDescription }
  | { type: 'candidate'; from: string; hidden: boolean; candidate: WireCandidate | null }
  | { type: 'recording'; active: boolean }
  | { type: 'error'; code: string; message: string };

export const ERROR_CODES = [
  'bad-message',
  'not-joined',
  'already-joined',
  'unknown-peer',
  'unauthorized',
  'room-full',
  'too-large',
  'rate-limited',
  'join-timeout',
  'too-slow',
] as const;

/** WebSocket close codes the server uses for errors that end the connection. */
export const CLOSE_UNAUTHORIZED = 4401;
export const CLOSE_ROOM_FULL = 4409;
export const CLOSE_TOO_LARGE = 1009;

const NAME_RE = /^[A-Za-z0-9_-]{1,64}$/;
// \p{Cc} covers C0, DEL and C1 control characters.
const CONTROL_RE = /\p{Cc}/u;

export function isValidRoomName(room: string): boolean {
  return NAME_RE.test(room);
}

export function isValidPeerId(id: string): boolean {
  return NAME_RE.test(id);
}

/** A display name is 1 to 64 Unicode characters (code points), none a control character. */
export function isValidDisplayName(name: string): boolean {
  const length = Array.from(name).length;
  return length >= 1 && length <= 64 && !CONTROL_RE.test(name);
}

export type ParseResult = { ok: true; message: ServerMessage } | { ok: false; reason: string };

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parsePeer(v: unknown): PeerSummary | null {
  if (!isObject(v) || typeof v.id !== 'string' || !isValidPeerId(v.id)) return null;
  const name = typeof v.name === 'string' ? v.name : null;
  return { id: v.id, name };
}

function parseDescription(v: unknown, type: 'offer' | 'answer'): SessionDescription | null {
  if (!isObject(v) || v.type !== type || typeof v.sdp !== 'string') return null;
  return { type, sdp: v.sdp };
}

function parseCandidate(v: unknown): WireCandidate | null | undefined {
  if (v === null) return null;
  if (!isObject(v) || typeof v.candidate !== 'string') return undefined;
  const sdpMid = typeof v.sdpMid === 'string' ? v.sdpMid : null;
  const sdpMLineIndex = typeof v.sdpMLineIndex === 'number' ? v.sdpMLineIndex : null;
  return { candidate: v.candidate, sdpMid, sdpMLineIndex };
}

/**
 * Parses one text frame from the server. Unknown fields are ignored, as the
 * spec asks; a frame that does not fit a known shape is reported, not thrown.
 */
export function parseServerMessage(text: string): ParseResult {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  if (!isObject(data) || typeof data.type !== 'string') {
    return { ok: false, reason: 'not an object with a type' };
  }
  const bad = (what: string): ParseResult => ({ ok: false, reason: `${data.type}: ${what}` });
  const from = typeof data.from === 'string' ? data.from : null;
  const hidden = data.hidden === true;

  switch (data.type) {
    case 'welcome': {
      if (typeof data.id !== 'string' || typeof data.room !== 'string') return bad('id/room');
      if (!Array.isArray(data.peers)) return bad('peers');
      const peers: PeerSummary[] = [];
      for (const p of data.peers) {
        const peer = parsePeer(p);
        if (!peer) return bad('peer entry');
        peers.push(peer);
      }
      return {
        ok: true,
        message: { type: 'welcome', id: data.id, room: data.room, peers, recording: data.recording === true },
      };
    }
    case 'peer-joined': {
      const peer = parsePeer(data.peer);
      return peer ? { ok: true, message: { type: 'peer-joined', peer } } : bad('peer');
    }
    case 'peer-left':
      return typeof data.id === 'string' ? { ok: true, message: { type: 'peer-left', id: data.id } } : bad('id');
    case 'offer': {
      const offer = parseDescription(data.offer, 'offer');
      if (!offer || !from) return bad('offer/from');
      return { ok: true, message: { type: 'offer', from, hidden, offer } };
    }
    case 'answer': {
      const answer = parseDescription(data.answer, 'answer');
      if (!answer || !from) return bad('answer/from');
      return { ok: true, message: { type: 'answer', from, hidden, answer } };
    }
    case 'candidate': {
      const candidate = parseCandidate(data.candidate);
      if (candidate === undefined || !from) return bad('candidate/from');
      return { ok: true, message: { type: 'candidate', from, hidden, candidate } };
    }
    case 'recording':
      return typeof data.active === 'boolean'
        ? { ok: true, message: { type: 'recording', active: data.active } }
        : bad('active');
    case 'error':
      return typeof data.code === 'string'
        ? {
            ok: true,
            message: { type: 'error', code: data.code, message: typeof data.message === 'string' ? data.message : '' },
          }
        : bad('code');
    default:
      return { ok: false, reason: `unknown type ${data.type}` };
  }
}
