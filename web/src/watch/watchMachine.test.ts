// The watch view's logic without a browser: parameters, error meanings, retries with backoff.

import { describe, expect, it } from 'vitest';
import { describeStatus, initialWatchState, parseWatchParams, reduce, retryDelayMs, type WatchEvent, type WatchState } from './watchMachine';

function run(...events: WatchEvent[]) {
  let state: WatchState = initialWatchState;
  let commands: ReturnType<typeof reduce>['commands'] = [];
  for (const e of events) ({ state, commands } = reduce(state, e));
  return { state, commands };
}

describe('parseWatchParams', () => {
  it('is null unless watch=1', () => {
    expect(parseWatchParams('?room=a', 'h:8080', 'http:')).toBeNull();
    expect(parseWatchParams('?room=a&watch=0', 'h:8080', 'http:')).toBeNull();
  });
  it('defaults the WHEP base to the page host on 8081 and keeps the token', () => {
    expect(parseWatchParams('?room=lobby&watch=1&token=abc', 'example.org:8080', 'https:')).toEqual({
      room: 'lobby',
      endpoint: 'https://example.org:8081/whep/lobby',
      token: 'abc',
    });
  });
  it('takes ?whep= as the base and refuses bad rooms and non-http bases', () => {
    expect(parseWatchParams('?room=r1&watch=1&whep=http://127.0.0.1:9000/x', 'h', 'http:')?.endpoint).toBe('http://127.0.0.1:9000/whep/r1');
    expect(parseWatchParams('?room=a/b&watch=1', 'h', 'http:')).toMatchObject({ room: '', endpoint: '' });
    expect(parseWatchParams('?room=a&watch=1&whep=javascript:alert(1)', 'h', 'http:')?.endpoint).toBe('');
  });
});

describe('describeStatus', () => {
  it('reads the API error shape', () => {
    expect(describeStatus(401, '{"error":"unauthorized","message":"token has expired"}').message).toContain('token has expired');
    expect(describeStatus(403, '{}').token).toBe(true);
    expect(describeStatus(404, '').retry).toBe(true);
    expect(describeStatus(400, 'bad').retry).toBe(false);
    expect(describeStatus(503, 'x').retry).toBe(true);
  });
});

describe('reduce', () => {
  it('connects, plays, and a lost connection retries with backoff', () => {
    let r = run({ type: 'start' });
    expect(r.state).toEqual({ kind: 'connecting', attempt: 1 });
    expect(r.commands).toEqual([{ type: 'connect' }]);
    r = run({ type: 'start' }, { type: 'answered' }, { type: 'mediaConnected' }, { type: 'connectionLost' });
    expect(r.state).toMatchObject({ kind: 'waiting', attempt: 1, delayMs: 1000 });
    expect(r.commands).toEqual([{ type: 'hangUp' }, { type: 'scheduleRetry', delayMs: 1000 }]);
  });
  it('backs off on repeated failures, and a working session resets it', () => {
    const r = run({ type: 'start' }, { type: 'networkError', message: 'x' }, { type: 'retryNow' }, { type: 'networkError', message: 'x' }, { type: 'retryNow' }, { type: 'httpError', status: 503, body: '' });
    expect(r.state).toMatchObject({ kind: 'waiting', attempt: 3, delayMs: 4000 });
    const back = reduce({ kind: 'connecting', attempt: 5 }, { type: 'mediaConnected' });
    expect(back.state).toEqual({ kind: 'playing', attempt: 0 });
  });
  it('waits longer for a room that is not recording', () => {
    const r = run({ type: 'start' }, { type: 'httpError', status: 404, body: '{"error":"room_not_found","message":"m"}' });
    expect(r.state).toMatchObject({ kind: 'waiting', delayMs: 2000 });
    expect(r.state.kind === 'waiting' && r.state.message).toContain('not being recorded');
  });
  it('a refused token asks for another and does not retry', () => {
    for (const status of [401, 403]) {
      const r = run({ type: 'start' }, { type: 'httpError', status, body: '{"message":"no"}' });
      expect(r.state.kind).toBe('needsToken');
      expect(r.commands).toEqual([{ type: 'hangUp' }]);
    }
  });
  it('a refused offer fails for good; stop hangs up and ignores the rest', () => {
    expect(run({ type: 'start' }, { type: 'httpError', status: 400, body: 'bad sdp' }).state.kind).toBe('failed');
    const r = run({ type: 'start' }, { type: 'stop' }, { type: 'connectionLost' }, { type: 'retryNow' });
    expect(r.state).toEqual({ kind: 'stopped' });
    expect(r.commands).toEqual([]);
  });
  it('caps the delay', () => {
    expect(retryDelayMs(1)).toBe(1000);
    expect(retryDelayMs(10)).toBe(30000);
    expect(retryDelayMs(10, true)).toBe(60000);
  });
});
