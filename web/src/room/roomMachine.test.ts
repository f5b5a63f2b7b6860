// Signaling state machine and mesh decisions, driven without a browser.

import { describe, expect, it } from 'vitest';
import type { ServerMessage } from '../protocol/messages';
import {
  initialState,
  PROBLEM_FAILED,
  PROBLEM_RESTARTING,
  PROBLEM_WAITING,
  reduce,
  retryDelayMs,
  tilePeers,
  type Command,
  type RoomEvent,
  type RoomState,
} from './roomMachine';

const offer = { type: 'offer' as const, sdp: 'v=0 offer' };
const answer = { type: 'answer' as const, sdp: 'v=0 answer' };

function run(state: RoomState, ...events: RoomEvent[]): { state: RoomState; commands: Command[] } {
  let commands: Command[] = [];
  for (const e of events) {
    const step = reduce(state, e);
    state = step.state;
    commands = step.commands;
  }
  return { state, commands };
}

const server = (message: ServerMessage): RoomEvent => ({ type: 'server', message });

function joined(peers: { id: string; name: string | null }[] = [], recording = false): RoomState {
  return run(
    initialState,
    { type: 'start', room: 'standup', name: 'alice' },
    { type: 'socket-open' },
    server({ type: 'welcome', id: 'me', room: 'standup', peers, recording }),
  ).state;
}

describe('joining', () => {
  it('opens the socket, then sends join as the first message', () => {
    const a = reduce(initialState, { type: 'start', room: 'standup', name: 'alice' });
    expect(a.state.phase).toBe('connecting');
    expect(a.commands).toEqual([{ type: 'open-socket' }]);
    const b = reduce(a.state, { type: 'socket-open' });
    expect(b.commands).toEqual([{ type: 'send', message: { type: 'join', room: 'standup', name: 'alice' } }]);
  });

  it('omits name when the user gave none', () => {
    const { commands } = run(initialState, { type: 'start', room: 'r', name: null }, { type: 'socket-open' });
    expect(commands).toEqual([{ type: 'send', message: { type: 'join', room: 'r' } }]);
  });

  it('makes the newcomer offer to every peer of the welcome, and to nobody else', () => {
    const { state, commands } = run(
      initialState,
      { type: 'start', room: 'standup', name: 'carol' },
      { type: 'socket-open' },
      server({
        type: 'welcome',
        id: 'p3',
        room: 'standup',
        peers: [
          { id: 'p1', name: 'alice' },
          { id: 'p2', name: null },
        ],
        recording: false,
      }),
    );
    expect(state.phase).toBe('joined');
    expect(state.selfId).toBe('p3');
    expect(commands).toEqual([
      { type: 'make-offer', peerId: 'p1', iceRestart: false },
      { type: 'make-offer', peerId: 'p2', iceRestart: false },
    ]);
    expect(state.peers.p1?.role).toBe('offerer');
    expect(state.peers.p2?.name).toBeNull();
  });

  it('makes an existing member wait for the newcomer and answer its offer', () => {
    const s0 = joined();
    const a = reduce(s0, server({ type: 'peer-joined', peer: { id: 'p9', name: 'bob' } }));
    expect(a.commands).toEqual([]);
    expect(a.state.peers.p9?.role).toBeNull();
    const b = reduce(a.state, server({ type: 'offer', from: 'p9', hidden: false, offer }));
    expect(b.commands).toEqual([{ type: 'accept-offer', peerId: 'p9', hidden: false, offer }]);
    expect(b.state.peers.p9?.role).toBe('answerer');
    expect(b.state.peers.p9?.name).toBe('bob');
  });

  it('routes answers and candidates to the pair, and ignores unknown senders', () => {
    const s = joined([{ id: 'p1', name: 'alice' }]);
    expect(reduce(s, server({ type: 'answer', from: 'p1', hidden: false, answer })).commands).toEqual([
      { type: 'accept-answer', peerId: 'p1', answer },
    ]);
    const cand = { candidate: 'candidate:1 1 udp 1 127.0.0.1 5000 typ host', sdpMid: '0', sdpMLineIndex: 0 };
    expect(reduce(s, server({ type: 'candidate', from: 'p1', hidden: false, candidate: cand })).commands).toEqual([
      { type: 'add-candidate', peerId: 'p1', candidate: cand },
    ]);
    expect(reduce(s, server({ type: 'candidate', from: 'p1', hidden: false, candidate: null })).commands).toEqual([
      { type: 'add-candidate', peerId: 'p1', candidate: null },
    ]);
    expect(reduce(s, server({ type: 'answer', from: 'nobody', hidden: false, answer })).commands).toEqual([]);
  });

  it('ignores room traffic before the welcome', () => {
    const s = run(initialState, { type: 'start', room: 'r', name: null }, { type: 'socket-open' }).state;
    expect(reduce(s, server({ type: 'offer', from: 'p1', hidden: false, offer })).commands).toEqual([]);
  });
});

describe('tiles', () => {
  it('shows a visible peer once media arrives and drops it on peer-left', () => {
    let s = joined([{ id: 'p1', name: 'alice' }]);
    expect(tilePeers(s)).toEqual([]);
    s = reduce(s, { type: 'media-arrived', peerId: 'p1' }).state;
    expect(tilePeers(s).map((p) => p.id)).toEqual(['p1']);
    const left = reduce(s, server({ type: 'peer-left', id: 'p1' }));
    expect(left.commands).toEqual([{ type: 'close-peer', peerId: 'p1' }]);
    expect(tilePeers(left.state)).toEqual([]);
    expect(left.state.peers.p1).toBeUndefined();
  });

  it('shows a tile for a connected peer that sends no media (a viewer)', () => {
    let s = joined([{ id: 'p1', name: 'viewer' }]);
    s = reduce(s, { type: 'ice-state', peerId: 'p1', state: 'connected' }).state;
    expect(tilePeers(s).map((p) => p.id)).toEqual(['p1']);
  });

  it('ignores peer-left for a member it does not know', () => {
    const s = joined();
    expect(reduce(s, server({ type: 'peer-left', id: 'ghost' }))).toEqual({ state: s, commands: [] });
  });
});

describe('hidden members and recording', () => {
  it('answers a hidden offer but never shows a tile for it', () => {
    let s = joined([{ id: 'p1', name: 'alice' }]);
    const step = reduce(s, server({ type: 'offer', from: 'rec', hidden: true, offer }));
    expect(step.commands).toEqual([{ type: 'accept-offer', peerId: 'rec', hidden: true, offer }]);
    s = run(step.state, { type: 'media-arrived', peerId: 'rec' }, { type: 'ice-state', peerId: 'rec', state: 'connected' }).state;
    expect(s.peers.rec?.hidden).toBe(true);
    expect(tilePeers(s)).toEqual([]);
  });

  it('takes the recording state from welcome and from recording notices', () => {
    let s = joined([], true);
    expect(s.recording).toBe(true);
    s = reduce(s, server({ type: 'recording', active: false })).state;
    expect(s.recording).toBe(false);
    s = reduce(s, server({ type: 'recording', active: true })).state;
    expect(s.recording).toBe(true);
  });

  it('closes the hidden pairs when recording stops, since hidden members get no peer-left', () => {
    let s = joined([{ id: 'p1', name: 'alice' }]);
    s = run(s, server({ type: 'recording', active: true }), server({ type: 'offer', from: 'rec', hidden: true, offer })).state;
    const step = reduce(s, server({ type: 'recording', active: false }));
    expect(step.commands).toEqual([{ type: 'close-peer', peerId: 'rec' }]);
    expect(step.state.peers.rec).toBeUndefined();
    expect(step.state.peers.p1).toBeDefined();
  });

  it('does not restart ICE towards a hidden member', () => {
    let s = joined();
    s = reduce(s, server({ type: 'offer', from: 'rec', hidden: true, offer })).state;
    expect(reduce(s, { type: 'ice-state', peerId: 'rec', state: 'failed' }).commands).toEqual([]);
  });
});

describe('server errors', () => {
  it.each(['room-full', 'unauthorized'] as const)('%s ends the visit with a message', (code) => {
    const s = run(initialState, { type: 'start', room: 'r', name: null }, { type: 'socket-open' }).state;
    const step = reduce(s, server({ type: 'error', code, message: 'no' }));
    expect(step.state.phase).toBe('left');
    expect(step.state.end?.code).toBe(code);
    expect(step.state.end?.message).toMatch(code === 'room-full' ? /full/ : /not allowed/);
    expect(step.commands).toEqual([{ type: 'cancel-retry' }, { type: 'close-all-peers' }, { type: 'close-socket' }]);
    // The close that follows is not a reason to reconnect.
    expect(reduce(step.state, { type: 'socket-closed', code: 4409, reason: '' }).commands).toEqual([]);
  });

  it.each([
    [4401, 'unauthorized'],
    [4409, 'room-full'],
  ])('close code %i alone ends the visit as %s', (code, end) => {
    const s = run(initialState, { type: 'start', room: 'r', name: null }, { type: 'socket-open' }).state;
    const step = reduce(s, { type: 'socket-closed', code, reason: '' });
    expect(step.state.phase).toBe('left');
    expect(step.state.end?.code).toBe(end);
  });

  it('ignores unknown-peer and shows other errors without leaving', () => {
    const s = joined();
    expect(reduce(s, server({ type: 'error', code: 'unknown-peer', message: '' })).state).toBe(s);
    const r = reduce(s, server({ type: 'error', code: 'rate-limited', message: 'slow down' }));
    expect(r.state.phase).toBe('joined');
    expect(r.state.notice).toContain('rate-limited');
    expect(r.commands).toEqual([]);
  });
});

describe('reconnection', () => {
  it('backs off 0.5 s, 1 s, 2 s ... up to 10 s', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 50].map(retryDelayMs)).toEqual([500, 1000, 2000, 4000, 8000, 10000, 10000, 10000]);
  });

  it('retries when the server cannot be reached', () => {
    const s = run(initialState, { type: 'start', room: 'r', name: null }).state;
    const step = reduce(s, { type: 'socket-closed', code: 1006, reason: '' });
    expect(step.state.phase).toBe('reconnecting');
    expect(step.state.connectionProblem).toMatch(/Cannot reach/);
    expect(step.commands).toContainEqual({ type: 'schedule-retry', delayMs: 500 });
    const again = reduce(step.state, { type: 'retry-due' });
    expect(again.commands).toEqual([{ type: 'open-socket' }]);
    const twice = reduce(again.state, { type: 'socket-closed', code: 1006, reason: '' });
    expect(twice.commands).toContainEqual({ type: 'schedule-retry', delayMs: 1000 });
  });

  it('drops every pair on loss and rejoins under a fresh id, offering again', () => {
    let s = joined([{ id: 'p1', name: 'alice' }, { id: 'p2', name: 'bob' }], true);
    s = reduce(s, { type: 'media-arrived', peerId: 'p1' }).state;
    const lost = reduce(s, { type: 'socket-closed', code: 1006, reason: '' });
    expect(lost.state.phase).toBe('reconnecting');
    expect(lost.state.connectionProblem).toMatch(/Lost/);
    expect(lost.state.peers).toEqual({});
    expect(lost.state.recording).toBe(false);
    expect(lost.state.selfId).toBeNull();
    expect(lost.state.kept).toEqual({});
    expect(lost.commands).toEqual([{ type: 'close-live-peers' }, { type: 'schedule-retry', delayMs: 500 }]);

    const back = run(
      lost.state,
      { type: 'retry-due' },
      { type: 'socket-open' },
      server({ type: 'welcome', id: 'me2', room: 'standup', peers: [{ id: 'p1', name: 'alice' }], recording: true }),
    );
    expect(back.state.phase).toBe('joined');
    expect(back.state.selfId).toBe('me2');
    expect(back.state.failedAttempts).toBe(0);
    expect(back.state.recording).toBe(true);
    expect(back.commands).toEqual([{ type: 'make-offer', peerId: 'p1', iceRestart: false }]);
  });

  it('sends join again after reconnecting', () => {
    const s = run(initialState, { type: 'start', room: 'r', name: 'x' }, { type: 'socket-closed', code: 1006, reason: '' }, { type: 'retry-due' }).state;
    expect(reduce(s, { type: 'socket-open' }).commands).toEqual([{ type: 'send', message: { type: 'join', room: 'r', name: 'x' } }]);
  });
});

describe('ICE failure', () => {
  it('restarts once from the offering side, then shows a message on the tile', () => {
    let s = joined([{ id: 'p1', name: 'alice' }]);
    s = reduce(s, { type: 'media-arrived', peerId: 'p1' }).state;
    const first = reduce(s, { type: 'ice-state', peerId: 'p1', state: 'failed' });
    expect(first.commands).toEqual([{ type: 'make-offer', peerId: 'p1', iceRestart: true }]);
    expect(first.state.peers.p1?.problem).toBe(PROBLEM_RESTARTING);
    const ok = reduce(first.state, { type: 'ice-state', peerId: 'p1', state: 'connected' });
    expect(ok.state.peers.p1?.problem).toBeNull();
    const second = reduce(ok.state, { type: 'ice-state', peerId: 'p1', state: 'failed' });
    expect(second.commands).toEqual([]);
    expect(second.state.peers.p1?.problem).toBe(PROBLEM_FAILED);
    expect(tilePeers(second.state)).toHaveLength(1);
  });

  it('makes the answering side wait for the restart offer, then give up after it fails', () => {
    let s = joined();
    s = run(s, server({ type: 'peer-joined', peer: { id: 'p5', name: 'eve' } }), server({ type: 'offer', from: 'p5', hidden: false, offer })).state;
    const wait = reduce(s, { type: 'ice-state', peerId: 'p5', state: 'failed' });
    expect(wait.commands).toEqual([]);
    expect(wait.state.peers.p5?.problem).toBe(PROBLEM_WAITING);
    // The restart arrives as a new offer on the same pair.
    const restart = reduce(wait.state, server({ type: 'offer', from: 'p5', hidden: false, offer }));
    expect(restart.commands).toEqual([{ type: 'accept-offer', peerId: 'p5', hidden: false, offer }]);
    const failed = reduce(restart.state, { type: 'ice-state', peerId: 'p5', state: 'failed' });
    expect(failed.state.peers.p5?.problem).toBe(PROBLEM_FAILED);
  });
});

describe('hang-up', () => {
  it('sends leave, closes every pair and the socket, and returns to the lobby', () => {
    const s = joined([{ id: 'p1', name: 'alice' }]);
    const step = reduce(s, { type: 'hangup' });
    expect(step.state.phase).toBe('left');
    expect(step.state.end?.code).toBe('hangup');
    expect(step.commands).toEqual([
      { type: 'send', message: { type: 'leave' } },
      { type: 'cancel-retry' },
      { type: 'close-all-peers' },
      { type: 'close-socket' },
    ]);
  });

  it('stops reconnecting when hanging up while disconnected', () => {
    const s = run(initialState, { type: 'start', room: 'r', name: null }, { type: 'socket-closed', code: 1006, reason: '' }).state;
    const step = reduce(s, { type: 'hangup' });
    expect(step.commands).toEqual([{ type: 'cancel-retry' }, { type: 'close-all-peers' }, { type: 'close-socket' }]);
    expect(reduce(step.state, { type: 'retry-due' }).commands).toEqual([]);
  });
});

describe('connections to hidden members across a WebSocket drop', () => {
  /** Joined, recorded by 'rec' whose pair is connected, one visible member 'p1'. */
  function recorded(): RoomState {
    return run(
      joined([{ id: 'p1', name: 'bob' }], true),
      server({ type: 'offer', from: 'rec', hidden: true, offer }),
      { type: 'ice-state', peerId: 'rec', state: 'connected' },
    ).state;
  }
  const drop: RoomEvent = { type: 'socket-closed', code: 1006, reason: '' };
  const rejoin = (recording: boolean, peers: { id: string; name: string | null }[] = []): RoomEvent[] => [
    { type: 'retry-due' },
    { type: 'socket-open' },
    server({ type: 'welcome', id: 'me2', room: 'standup', peers, recording }),
  ];

  it('keeps the connected hidden pair under a local key and closes the visible ones', () => {
    const lost = reduce(recorded(), drop);
    expect(lost.state.peers).toEqual({});
    expect(lost.state.kept).toEqual({ 'kept-1': { key: 'kept-1', formerId: 'rec' } });
    expect(lost.commands).toEqual([
      { type: 'keep-peer', peerId: 'rec', key: 'kept-1' },
      { type: 'close-live-peers' },
      { type: 'schedule-retry', delayMs: 500 },
    ]);
  });

  it('does not keep a hidden pair that never connected or has failed', () => {
    let s = run(joined([], true), server({ type: 'offer', from: 'rec', hidden: true, offer })).state;
    expect(reduce(s, drop).state.kept).toEqual({});
    s = run(recorded(), { type: 'ice-state', peerId: 'rec', state: 'failed' }).state;
    const lost = reduce(s, drop);
    expect(lost.state.kept).toEqual({});
    expect(lost.commands).not.toContainEqual(expect.objectContaining({ type: 'keep-peer' }));
  });

  it('keeps it through the rejoin, even when the recorder is not back yet', () => {
    const back = run(recorded(), drop, ...rejoin(false));
    expect(back.state.phase).toBe('joined');
    expect(Object.keys(back.state.kept)).toEqual(['kept-1']);
    expect(back.commands).not.toContainEqual(expect.objectContaining({ type: 'close-kept' }));
    expect(run(back.state, server({ type: 'recording', active: true })).state.kept).toEqual(back.state.kept);
  });

  it('routes messages from the new ids to new pairs only, even an id equal to the old one', () => {
    const back = run(recorded(), drop, ...rejoin(true)).state;
    const cand = { candidate: 'candidate:1 1 udp 1 127.0.0.1 9 typ host', sdpMid: '0', sdpMLineIndex: 0 };
    // 'rec' is now a new member of the restarted server: unknown until it offers.
    expect(reduce(back, server({ type: 'candidate', from: 'rec', hidden: true, candidate: cand })).commands).toEqual([]);
    expect(reduce(back, server({ type: 'answer', from: 'rec', hidden: true, answer })).commands).toEqual([]);
    const step = reduce(back, server({ type: 'offer', from: 'rec', hidden: true, offer }));
    expect(step.commands).toEqual([{ type: 'accept-offer', peerId: 'rec', hidden: true, offer }]);
    expect(step.state.peers.rec?.iceRestarts).toBe(0);
    expect(Object.keys(step.state.kept)).toEqual(['kept-1']);
  });

  it('closes the kept pairs once a new hidden pair connects, not before', () => {
    let s = run(recorded(), drop, ...rejoin(true), server({ type: 'offer', from: 'g2', hidden: true, offer })).state;
    expect(Object.keys(s.kept)).toEqual(['kept-1']);
    const checking = reduce(s, { type: 'ice-state', peerId: 'g2', state: 'checking' });
    expect(checking.commands).toEqual([]);
    const up = reduce(checking.state, { type: 'ice-state', peerId: 'g2', state: 'connected' });
    expect(up.commands).toEqual([{ type: 'close-kept', key: 'kept-1' }]);
    expect(up.state.kept).toEqual({});
    s = up.state;
    // A later flap of the new pair closes nothing more.
    expect(run(s, { type: 'ice-state', peerId: 'g2', state: 'completed' }).commands).toEqual([]);
  });

  it('a visible pair connecting does not replace the kept one', () => {
    const s = run(recorded(), drop, ...rejoin(true, [{ id: 'b2', name: 'bob' }])).state;
    const up = reduce(s, { type: 'ice-state', peerId: 'b2', state: 'connected' });
    expect(up.commands).toEqual([]);
    expect(Object.keys(up.state.kept)).toEqual(['kept-1']);
  });

  it('closes a kept pair when it fails or closes, not when it is only disconnected', () => {
    const s = run(recorded(), drop, ...rejoin(true)).state;
    expect(reduce(s, { type: 'kept-state', key: 'kept-1', state: 'disconnected' }).commands).toEqual([]);
    for (const state of ['failed', 'closed'] as const) {
      const step = reduce(s, { type: 'kept-state', key: 'kept-1', state });
      expect(step.commands).toEqual([{ type: 'close-kept', key: 'kept-1' }]);
      expect(step.state.kept).toEqual({});
      expect(reduce(step.state, { type: 'kept-state', key: 'kept-1', state }).commands).toEqual([]);
    }
  });

  it('closes kept pairs when recording stops: no hidden member is left', () => {
    const s = run(recorded(), drop, ...rejoin(true)).state;
    const step = reduce(s, server({ type: 'recording', active: false }));
    expect(step.commands).toEqual([{ type: 'close-kept', key: 'kept-1' }]);
    expect(step.state.kept).toEqual({});
  });

  it('closes kept pairs when the user leaves, joined or still reconnecting', () => {
    const lost = reduce(recorded(), drop).state;
    const left = reduce(lost, { type: 'hangup' });
    expect(left.state.kept).toEqual({});
    expect(left.commands).toContainEqual({ type: 'close-all-peers' });
    const back = run(lost, ...rejoin(true)).state;
    const left2 = reduce(back, { type: 'hangup' });
    expect(left2.state.kept).toEqual({});
    expect(left2.commands).toContainEqual({ type: 'close-all-peers' });
  });

  it('closes kept pairs on a fatal close', () => {
    const lost = reduce(recorded(), drop).state;
    const step = reduce(run(lost, { type: 'retry-due' }).state, { type: 'socket-closed', code: 4409, reason: '' });
    expect(step.state.phase).toBe('left');
    expect(step.state.kept).toEqual({});
    expect(step.commands).toContainEqual({ type: 'close-all-peers' });
  });

  it('keeps pairs from two drops under distinct keys', () => {
    const s = run(
      recorded(),
      drop,
      ...rejoin(true),
      server({ type: 'offer', from: 'g3', hidden: true, offer }),
      { type: 'ice-state', peerId: 'g3', state: 'connected' }, // replaces kept-1
    ).state;
    const again = reduce(s, drop);
    expect(again.state.kept).toEqual({ 'kept-2': { key: 'kept-2', formerId: 'g3' } });
  });
});
