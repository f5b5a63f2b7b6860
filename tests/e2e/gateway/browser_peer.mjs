// Drives headless Debian Chromium (through the web client's playwright-core) as one visible room member for N seconds.
//
// Usage: node browser_peer.mjs URL SECONDS [Y4M_FILE]
// Prints one JSON line with the page's state and outbound video stats at the end.
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../..');
const require = createRequire(path.join(root, 'web', 'package.json'));
const { chromium } = require('playwright-core');

const [url, secondsText, y4m] = process.argv.slice(2);
const seconds = Number(secondsText || 10);
const userDataDir = mkdtempSync(path.join(tmpdir(), 'roomcast-e2e-chromium-'));
const args = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection',
  // Keep a hidden tab's timers and encoder at full rate.
  '--disable-renderer-backgrounding', '--disable-background-timer-throttling',
  '--disable-backgrounding-occluded-windows',
];
if (y4m) args.push(`--use-file-for-fake-video-capture=${y4m}`);

let context;
const deadline = setTimeout(() => {
  console.error('browser_peer: overall timeout');
  process.exit(3);
}, (seconds + 60) * 1000);

try {
  // A fresh profile folder per run; playwright passes it as --user-data-dir.
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: '/usr/bin/chromium', headless: true, args,
    timeout: 30000 });
  const page = context.pages()[0] || (await context.newPage());
  page.on('console', (m) => console.error(`page: ${m.text()}`));
  await page.goto(url, { timeout: 15000 });
  await page.waitForFunction(() => window.peerState && window.peerState.connected.length > 0, null,
                             { timeout: 30000 });
  const connectedAt = Date.now();
  console.error(`browser_peer: connected; staying ${seconds} s`);
  const samples = [];
  while (Date.now() - connectedAt < seconds * 1000) {
    await page.waitForTimeout(1000);
    samples.push(await page.evaluate(() => window.videoStats()));
  }
  const state = await page.evaluate(() => window.peerState);
  console.log(JSON.stringify({ state, samples }));
  await context.close();
  context = null;
} catch (e) {
  console.error(`browser_peer: ${e && e.stack ? e.stack : e}`);
  process.exitCode = 2;
} finally {
  clearTimeout(deadline);
  if (context) await context.close().catch(() => {});
  rmSync(userDataDir, { recursive: true, force: true });
}
