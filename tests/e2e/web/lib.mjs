// Helpers of the web client's browser tests: Chromium, room pages, a hidden member.

import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import net from 'node:net';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '../../..');
// playwright-core and ws are devDependencies of web/.
const requireWeb = createRequire(path.join(repoRoot, 'web/package.json'));
const { chromium } = requireWeb('playwright-core');
export const WebSocket = requireWeb('ws');

export const baseUrl = process.env.ROOMCAST_E2E_URL ?? 'http://127.0.0.1:8080/';
export const artifactsDir = process.env.ROOMCAST_ARTIFACTS_DIR || path.join(repoRoot, 'test-artifacts');
fs.mkdirSync(artifactsDir, { recursive: true });

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  // Without it Chromium gathers no candidates on 127.0.0.1.
  '--allow-loopback-in-peer-connection',
];

/** One Chromium; playwright gives it a fresh temporary --user-data-dir and each context its own profile. */
export async function launchBrowser() {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 30_000,
  });
}

const consoleLog = fs.createWriteStream(path.join(artifactsDir, 'e2e-web-console.log'), { flags: 'w' });

/** Polls fn until it returns a truthy value; fails after timeoutMs with what it last saw. */
export async function waitFor(what, fn, timeoutMs = 10_000, intervalMs = 100) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** A participant: its own browser context (own permissions, own profile). */
export async function openParticipant(browser, label, { denyMedia = false } = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  page.on('console', (m) => consoleLog.write(`[${label}] ${m.type()}: ${m.text()}\n`));
  page.on('pageerror', (e) => consoleLog.write(`[${label}] pageerror: ${e.message}\n`));
  if (denyMedia) {
    await page.addInitScript(() => {
      const deny = () => Promise.reject(new DOMException('Permission denied', 'NotAllowedError'));
      Object.defineProperty(navigator.mediaDevices, 'getUserMedia', { value: deny, configurable: true });
    });
  }
  return { label, context, page };
}

export async function openLobby(p, room, url = baseUrl) {
  await p.page.goto(`${url}?room=${encodeURIComponent(room)}`);
}

export async function joinRoom(p, room, name, { withoutMedia = false, url = baseUrl } = {}) {
  const { page } = p;
  await openLobby(p, room, url);
  await page.getByLabel('Your name').fill(name);
  await page.getByRole('button', { name: 'Join', exact: true }).click();
  if (withoutMedia) {
    await page.getByTestId('lobby-message').waitFor();
    await page.getByRole('button', { name: 'Join to watch and listen' }).click();
  }
  await page.getByTestId('local-tile').waitFor();
  await waitFor(`${p.label} joined`, async () => /in the room/.test((await page.getByTestId('participant-count').textContent()) ?? ''));
}

/** Per remote tile: peer id, video size, playback position. */
export async function remoteVideos(page) {
  return page.$$eval('[data-testid=remote-tile]', (tiles) =>
    tiles.map((t) => {
      const v = t.querySelector('video');
      return { id: t.getAttribute('data-peer-id'), width: v?.videoWidth ?? 0, time: v?.currentTime ?? 0 };
    }),
  );
}

/** Waits for `count` remote tiles whose videos have frames and whose playback advances. */
export async function expectPlayingRemotes(p, count, timeoutMs = 20_000) {
  const first = await waitFor(
    `${p.label}: ${count} remote tiles with video frames`,
    async () => {
      const v = await remoteVideos(p.page);
      return v.length === count && v.every((x) => x.width > 0) ? v : false;
    },
    timeoutMs,
  );
  return waitFor(
    `${p.label}: remote videos advancing`,
    async () => {
      const v = await remoteVideos(p.page);
      const advanced = v.length === count && v.every((x) => x.width > 0 && x.time > (first.find((f) => f.id === x.id)?.time ?? Infinity));
      return advanced ? v : false;
    },
    5_000,
  );
}

export async function remoteTileCount(page) {
  return page.locator('[data-testid=remote-tile]').count();
}

export async function recordingBannerVisible(page) {
  return page.getByTestId('recording-banner').isVisible();
}

/**
 * A hidden member as the gateway would be: a plain WebSocket client that
 * joins with hidden: true and offers receive-only audio and video to every
 * visible member. The offers are made by RTCPeerConnections in a helper
 * page, so the test can see that the browsers answer with their tracks.
 */
export class HiddenMember {
  constructor(room, helperPage) {
    this.room = room;
    this.page = helperPage;
    this.messages = [];
    this.waiters = [];
    // Answers and candidates reach the helper page in arrival order, each
    // after the one before has been applied.
    this.chain = Promise.resolve();
  }

  async join() {
    const url = new URL('ws', baseUrl);
    url.protocol = 'ws:';
    this.ws = new WebSocket(url);
    this.ws.on('message', (data) => this.onMessage(JSON.parse(data.toString())));
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('hidden member: WebSocket not open within 5 s')), 5_000);
      this.ws.once('open', () => {
        clearTimeout(timer);
        resolve();
      });
      this.ws.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    this.ws.send(JSON.stringify({ type: 'join', room: this.room, hidden: true }));
    this.welcome = await this.next('welcome', (m) => m.type === 'welcome');
    return this.welcome;
  }

  onMessage(m) {
    this.messages.push(m);
    if (m.type === 'answer') {
      this.apply(([id, sdp]) => window.__hidden.answer(id, sdp), [m.from, m.answer.sdp]);
    } else if (m.type === 'candidate') {
      this.apply(([id, c]) => window.__hidden.candidate(id, c), [m.from, m.candidate]);
    }
    for (const w of [...this.waiters]) {
      if (w.match(m)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  }

  apply(fn, arg) {
    this.chain = this.chain.then(() => this.page.evaluate(fn, arg)).catch(() => {});
  }

  next(what, match, timeoutMs = 10_000) {
    const seen = this.messages.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        reject(new Error(`hidden member: no ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      const w = {
        match,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      };
      this.waiters.push(w);
    });
  }

  /** Offers recvonly audio+video to one visible member. */
  async offerTo(peerId) {
    await this.page.evaluate(() => {
      if (window.__hidden) return;
      const pcs = new Map();
      window.__hidden = {
        pcs,
        async offer(id) {
          const pc = new RTCPeerConnection();
          pcs.set(id, pc);
          pc.addTransceiver('audio', { direction: 'recvonly' });
          pc.addTransceiver('video', { direction: 'recvonly' });
          await pc.setLocalDescription(await pc.createOffer());
          // Candidates go inside the SDP, so the Node side needs no trickle back.
          await new Promise((r) => {
            if (pc.iceGatheringState === 'complete') return r();
            pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && r());
            setTimeout(r, 3000);
          });
          return pc.localDescription.sdp;
        },
        async answer(id, sdp) {
          await pcs.get(id)?.setRemoteDescription({ type: 'answer', sdp });
        },
        async candidate(id, c) {
          const pc = pcs.get(id);
          if (!pc) return;
          await (c ? pc.addIceCandidate(c) : pc.addIceCandidate()).catch(() => {});
        },
        async receiving(id) {
          const pc = pcs.get(id);
          if (!pc) return { frames: 0, ice: 'none' };
          let frames = 0;
          (await pc.getStats()).forEach((s) => {
            if (s.type === 'inbound-rtp' && s.kind === 'video') frames += s.framesDecoded ?? 0;
          });
          return { frames, ice: pc.iceConnectionState, signaling: pc.signalingState };
        },
        close() {
          for (const pc of pcs.values()) pc.close();
          pcs.clear();
        },
      };
    });
    const sdp = await this.page.evaluate((id) => window.__hidden.offer(id), peerId);
    this.ws.send(JSON.stringify({ type: 'offer', to: peerId, offer: { type: 'offer', sdp } }));
  }

  /** Video frames decoded from one member, and the pair's ICE and signaling states. */
  async receiving(peerId) {
    return this.page.evaluate((id) => window.__hidden.receiving(id), peerId);
  }

  async leave() {
    await this.page.evaluate(() => window.__hidden?.close()).catch(() => {});
    if (this.ws.readyState !== WebSocket.OPEN) return;
    const closed = new Promise((r) => this.ws.once('close', r));
    this.ws.send(JSON.stringify({ type: 'leave' }));
    await Promise.race([closed, new Promise((r) => setTimeout(r, 3000))]);
    this.ws.terminate();
  }
}

export function screenshotPath(name) {
  return path.join(artifactsDir, name);
}

function portOpen(url = baseUrl) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const s = net.connect({ host: hostname, port: Number(port) });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/**
 * Stops the room server that run.sh started and later starts the same
 * command again on the same address, to test reconnection.
 */
export class SignalServerControl {
  constructor() {
    this.pid = Number(process.env.ROOMCAST_E2E_SERVER_PID);
    this.child = null;
    this.extras = [];
    this.onExit = () => {
      this.child?.kill('SIGKILL');
      for (const c of this.extras) c.kill('SIGKILL');
    };
    process.once('exit', this.onExit);
  }

  get available() {
    return Number.isInteger(this.pid) && this.pid > 0 && !!process.env.ROOMCAST_E2E_SIGNAL;
  }

  async stop() {
    if (this.child) {
      this.child.kill('SIGTERM');
      this.child = null;
    } else {
      process.kill(this.pid, 'SIGTERM');
    }
    await waitFor('room server stopped', async () => !(await portOpen()), 5_000);
  }

  async start() {
    const log = fs.openSync(path.join(artifactsDir, 'e2e-web-signal-restarted.log'), 'w');
    this.child = spawn(
      process.env.ROOMCAST_E2E_SIGNAL,
      ['--listen', process.env.ROOMCAST_E2E_LISTEN, '--static', process.env.ROOMCAST_E2E_STATIC],
      { stdio: ['ignore', log, log] },
    );
    fs.closeSync(log);
    await waitFor('restarted room server listening', () => portOpen(), 10_000);
  }

  /** A second room server on a free loopback port, with extra options; returns its page URL. */
  async startExtra(name, extraArgs) {
    const port = await new Promise((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = s.address().port;
        s.close(() => resolve(p));
      });
    });
    const log = fs.openSync(path.join(artifactsDir, `e2e-web-signal-${name}.log`), 'w');
    const child = spawn(
      process.env.ROOMCAST_E2E_SIGNAL,
      ['--listen', `127.0.0.1:${port}`, '--static', process.env.ROOMCAST_E2E_STATIC, ...extraArgs],
      { stdio: ['ignore', log, log] },
    );
    fs.closeSync(log);
    this.extras.push(child);
    const url = `http://127.0.0.1:${port}/`;
    await waitFor(`${name} room server listening`, () => portOpen(url), 10_000);
    return url;
  }

  dispose() {
    this.child?.kill('SIGTERM');
    this.child = null;
    for (const c of this.extras) c.kill('SIGTERM');
    this.extras = [];
    process.removeListener('exit', this.onExit);
  }
}
