// Signaling URL and ICE server configuration.

import { describe, expect, it } from 'vitest';
import { resolveConfig } from './clientConfig';

const http = { protocol: 'http:', host: '127.0.0.1:8080', search: '' };

describe('resolveConfig', () => {
  it('defaults to /ws on the serving host and no ICE servers', () => {
    expect(resolveConfig(http, null).config).toEqual({ signalUrl: 'ws://127.0.0.1:8080/ws', iceServers: [] });
    expect(resolveConfig({ ...http, protocol: 'https:', host: 'meet.example' }, null).config.signalUrl).toBe('wss://meet.example/ws');
  });

  it('takes config.json, then lets query parameters win', () => {
    const file = { signalUrl: 'wss://a.example/ws', iceServers: [{ urls: 'stun:a.example:3478' }] };
    expect(resolveConfig(http, file).config).toEqual({ signalUrl: 'wss://a.example/ws', iceServers: [{ urls: 'stun:a.example:3478' }] });
    const ice = encodeURIComponent(JSON.stringify([{ urls: ['turn:t.example'], username: 'u', credential: 'c' }]));
    const r = resolveConfig({ ...http, search: `?signal=ws://127.0.0.1:9/ws&ice=${ice}` }, file);
    expect(r.config).toEqual({
      signalUrl: 'ws://127.0.0.1:9/ws',
      iceServers: [{ urls: ['turn:t.example'], username: 'u', credential: 'c' }],
    });
    expect(r.warnings).toEqual([]);
  });

  it('ignores bad values with a warning', () => {
    const r = resolveConfig({ ...http, search: '?signal=https://x/ws&ice=[{"urls":"http://x"}]' }, { iceServers: 'nope' });
    expect(r.config).toEqual({ signalUrl: 'ws://127.0.0.1:8080/ws', iceServers: [] });
    expect(r.warnings).toHaveLength(3);
    expect(resolveConfig({ ...http, search: '?ice=%7Bbroken' }, null).warnings).toHaveLength(1);
  });
});
