// Headless Debian Chromium as one room member for the gateway's browser tests: the flags it needs
// here (facts.md), a fresh profile folder, and cleanup. Used by browser_peer.mjs,
// tls_web_member.mjs and tests/faults/browser_faults.mjs.
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../..');
const require = createRequire(path.join(root, 'web', 'package.json'));
const { chromium } = require('playwright-core');

const ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
  // Without it Chromium gathers no candidates on 127.0.0.1.
  '--allow-loopback-in-peer-connection',
  // Keep a hidden tab's timers and encoder at full rate.
  '--disable-renderer-backgrounding', '--disable-background-timer-throttling',
  '--disable-backgrounding-occluded-windows',
];

/** Launches Chromium with ARGS plus extraArgs in a fresh profile; returns { context, page, close }. */
export async function launchMember(extraArgs = [], profilePrefix = 'roomcast-e2e-chromium-') {
  const userDataDir = mkdtempSync(path.join(tmpdir(), profilePrefix));
  let context;
  const close = async () => {
    if (context) await context.close().catch(() => {});
    context = null;
    rmSync(userDataDir, { recursive: true, force: true });
  };
  try {
    // playwright passes the profile folder as --user-data-dir.
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: '/usr/bin/chromium', headless: true, args: [...ARGS, ...extraArgs], timeout: 30000 });
  } catch (e) {
    await close();
    throw e;
  }
  const page = context.pages()[0] || (await context.newPage());
  return { context, page, close };
}
