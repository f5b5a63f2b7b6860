// Parsing of server messages and the protocol's name rules.

import { describe, expect, it } from 'vitest';
import { isValidDisplayName, isValidRoomName, parseServerMessage } from './messages';

describe('names', () => {
  it('accepts room names of 1 to 64 characters from [A-Za-z0-9_-]', () => {
    expect(isValidRoomName('standup')).toBe(true);
    expect(isValidRoomName('A-b_9')).toBe(true);
    expect(isValidRoomName('x'.repeat(64))).toBe(true);
    expect(isValidRoomName('x'.repeat(65))).toBe(false);
    expect(isValidRoomName('')).toBe(false);
    expect(isValidRoomName('a b')).toBe(false);
    expect(isValidRoomName('../etc')).toBe(false);
    expect(isValidRoomName('café')).toBe(false);
  });

  it('counts display names in code points and refuses control characters', () => {
    expect(isValidDisplayName('Zoë 🎥')).toBe(true);
    expect(isValidDisplayName('🎥'.repeat(64))).toBe(true);
    expect(isValidDisplayName('🎥'.repeat(65))).toBe(false);
    expect(isValidDisplayName('')).toBe(false);
    expect(isValidDisplayName('a\nb')).toBe(false);
    expect(isValidDisplayName('a\u0085b')).toBe(false);
  });
});

describe('parseServerMessage', () => {
  it('parses a welcome with peers and recording state', () => {
    const r = parseServerMessage(
      '{"type":"welcome","id":"p2","room":"standup","peers":[{"id":"p1","name":"alice"},{"id":"p3","name":null}],"recording":true,"extra":1}',
    );
    expect(r).toEqual({
      ok: true,
      message: {
        type: 'welcome',
        id: 'p2',
        room: 'standup',
        peers: [
          { id: 'p1', name: 'alice' },
          { id: 'p3', name: null },
        ],
        recording: true,
      },
    });
  });

  it('marks forwarded messages hidden only when the server says so', () => {
    const hidden = parseServerMessage('{"type":"offer","from":"p2","hidden":true,"offer":{"type":"offer","sdp":"v=0"}}');
    expect(hidden.ok && hidden.message.type === 'offer' && hidden.message.hidden).toBe(true);
    const plain = parseServerMessage('{"type":"offer","from":"p2","offer":{"type":"offer","sdp":"v=0"}}');
    expect(plain.ok && plain.message.type === 'offer' && plain.message.hidden).toBe(false);
  });

  it('keeps only the three candidate fields, and null as end of candidates', () => {
    const c = parseServerMessage(
      '{"type":"candidate","from":"p1","candidate":{"candidate":"candidate:1","sdpMid":"0","sdpMLineIndex":0,"usernameFragment":"x"}}',
    );
    expect(c).toEqual({
      ok: true,
      message: { type: 'candidate', from: 'p1', hidden: false, candidate: { candidate: 'candidate:1', sdpMid: '0', sdpMLineIndex: 0 } },
    });
    const end = parseServerMessage('{"type":"candidate","from":"p1","candidate":null}');
    expect(end.ok && end.message.type === 'candidate' && end.message.candidate).toBeNull();
  });

  it('parses recording notices and errors', () => {
    expect(parseServerMessage('{"type":"recording","active":false}')).toEqual({ ok: true, message: { type: 'recording', active: false } });
    expect(parseServerMessage('{"type":"error","code":"room-full","message":"full"}')).toEqual({
      ok: true,
      message: { type: 'error', code: 'room-full', message: 'full' },
    });
  });

  it.each([
    ['not json', 'nope'],
    ['an array', '[1]'],
    ['an unknown type', '{"type":"dance"}'],
    ['an offer without from', '{"type":"offer","offer":{"type":"offer","sdp":"v=0"}}'],
    ['an answer typed as offer', '{"type":"answer","from":"p1","answer":{"type":"offer","sdp":"v=0"}}'],
    ['a welcome with a bad peer id', '{"type":"welcome","id":"p","room":"r","peers":[{"id":"a b"}],"recording":false}'],
    ['a recording without active', '{"type":"recording"}'],
  ])('rejects %s', (_what, text) => {
    expect(parseServerMessage(text).ok).toBe(false);
  });
});
