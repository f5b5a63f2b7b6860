// Drives the real web client (web/dist) in headless Debian Chromium through a room-server restart:
// join, stay while the test restarts the server, hang up, and report what the page did.
//
// Usage: node web_restart_member.mjs URL ROOM NAME SECONDS
// Every RTCPeerConnection the page makes is counted by an init script (open = signalingState
// not 'closed'), so the test can tell a connection left open from one closed. Prints, every
// second, one line `sample {...}` on stderr, and at the end one JSON line on stdout: the samples,
// the WebSocket URLs opened, the page's roomcast console lines, and the open connections 3 s
// after hanging up.
import { launchMember } from './chromium_member.mjs';

const [url, room, name, secondsText] = process.argv.slice(2);
const seconds = Number(secondsText || 20);

let member;
const deadline = setTimeout(() => {
  console.error('web_restart_member: overall timeout');
  process.exit(3);
}, (seconds + 90) * 1000);

const consoleLines = [];
try {
  member = await launchMember();
  const { page } = member;
  page.on('console', (m) => {
    const text = m.text();
    if (text.startsWith('roomcast:')) consoleLines.push(text);
    console.error(`page: ${text}`);
  });
  await page.addInitScript(() => {
    const NativePc = window.RTCPeerConnection;
    window.__pcs = [];
    window.RTCPeerConnection = function (config) {
      const pc = new NativePc(config);
      window.__pcs.push(pc);
      return pc;
    };
    window.RTCPeerConnection.prototype = NativePc.prototype;
    const NativeWs = window.WebSocket;
    window.__sockets = [];
    window.WebSocket = function (u, p) { window.__sockets.push(String(u)); return new NativeWs(u, p); };
    window.WebSocket.prototype = NativeWs.prototype;
    Object.assign(window.WebSocket, { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 });
    window.__sample = () => ({
      t: performance.now() / 1000,
      made: window.__pcs.length,
      open: window.__pcs.filter((pc) => pc.signalingState !== 'closed').length,
      states: window.__pcs.filter((pc) => pc.signalingState !== 'closed').map((pc) => pc.connectionState),
      sockets: window.__sockets.length,
      recording: !!document.querySelector('[data-testid=recording-banner]'),
    });
  });
  await page.goto(`${url}?room=${encodeURIComponent(room)}`, { timeout: 15000 });
  await page.getByLabel('Your name').fill(name);
  await page.getByRole('button', { name: 'Join', exact: true }).click();
  await page.getByTestId('local-tile').waitFor({ timeout: 15000 });
  await page.waitForFunction(
    () => /in the room/.test(document.querySelector('[data-testid=participant-count]')?.textContent ?? ''),
    null, { timeout: 15000 });
  console.error(`web_restart_member: joined; staying ${seconds} s`);
  const samples = [];
  const t0 = Date.now();
  while (Date.now() - t0 < seconds * 1000) {
    const s = await page.evaluate(() => window.__sample());
    samples.push(s);
    console.error(`sample ${JSON.stringify(s)}`);
    await page.waitForTimeout(1000);
  }
  await page.getByRole('button', { name: 'Hang up' }).click();
  await page.waitForTimeout(3000);
  const afterLeave = await page.evaluate(() => window.__sample());
  const sockets = await page.evaluate(() => window.__sockets);
  console.log(JSON.stringify({ samples, afterLeave, sockets, console: consoleLines }));
  await member.close();
  member = null;
} catch (e) {
  console.error(`web_restart_member: ${e && e.stack ? e.stack : e}`);
  process.exitCode = 2;
} finally {
  clearTimeout(deadline);
  if (member) await member.close();
}
