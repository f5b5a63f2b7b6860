// Drives headless Debian Chromium through the real web client served over HTTPS from an address
// that is not loopback (as a browser on another machine sees it): the page must be a secure
// context (camera allowed), join over WSS, and stay for N seconds.
//
// Usage: node tls_web_member.mjs URL ROOM NAME SECONDS SPKI_SHA256_BASE64
// The certificate is trusted by its public key (--ignore-certificate-errors-spki-list), the
// way Chromium allows one extra key: the check stays on for every other certificate.
// Prints one JSON line: secure context, protocol, joined, the WebSocket URL the client used.
import { launchMember } from './chromium_member.mjs';

const [url, room, name, secondsText, spki] = process.argv.slice(2);
const seconds = Number(secondsText || 10);

let member;
const deadline = setTimeout(() => {
  console.error('tls_web_member: overall timeout');
  process.exit(3);
}, (seconds + 60) * 1000);

try {
  member = await launchMember([`--ignore-certificate-errors-spki-list=${spki}`]);
  const { page } = member;
  page.on('console', (m) => console.error(`page: ${m.text()}`));
  await page.addInitScript(() => {
    // Note the WebSocket URL the client opens (wss:// expected).
    const Native = window.WebSocket;
    window.__sockets = [];
    window.WebSocket = function (u, p) { window.__sockets.push(String(u)); return new Native(u, p); };
    window.WebSocket.prototype = Native.prototype;
    Object.assign(window.WebSocket, { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 });
  });
  await page.goto(`${url}?room=${encodeURIComponent(room)}`, { timeout: 15000 });
  await page.getByLabel('Your name').fill(name);
  await page.getByRole('button', { name: 'Join', exact: true }).click();
  await page.getByTestId('local-tile').waitFor({ timeout: 15000 });
  await page.waitForFunction(
    () => /in the room/.test(document.querySelector('[data-testid=participant-count]')?.textContent ?? ''),
    null, { timeout: 15000 });
  console.error(`tls_web_member: joined; staying ${seconds} s`);
  await page.waitForTimeout(seconds * 1000);
  const result = await page.evaluate(() => ({
    secure: window.isSecureContext,
    protocol: location.protocol,
    host: location.hostname,
    sockets: window.__sockets,
    recordingBanner: !!document.querySelector('[data-testid=recording-banner]'),
  }));
  console.log(JSON.stringify({ joined: true, ...result }));
  await member.close();
  member = null;
} catch (e) {
  console.error(`tls_web_member: ${e && e.stack ? e.stack : e}`);
  process.exitCode = 2;
} finally {
  clearTimeout(deadline);
  if (member) await member.close();
}
