// Drives headless Debian Chromium (through the web client's playwright-core) as one visible room
// member for the faults suite: joins through the e2e test page, stays SECONDS after connecting,
// and, when asked, pauses its sending (replaceTrack(null) on every sender, as a camera and a
// microphone turned off) for a while, then sends again on the same connection.
//
// Usage: node browser_faults.mjs URL SECONDS [PAUSE_AT PAUSE_SECONDS]
// Logs "browser_faults: connected", "browser_faults: paused", "browser_faults: resumed" (stderr)
// and prints one JSON line with the page's state and its connection states at the end.
import { launchMember } from '../e2e/gateway/chromium_member.mjs';

const [url, secondsText, pauseAtText, pauseForText] = process.argv.slice(2);
const seconds = Number(secondsText || 10);
const pauseAt = pauseAtText === undefined ? null : Number(pauseAtText);
const pauseFor = Number(pauseForText || 0);

let member;
const deadline = setTimeout(() => {
  console.error('browser_faults: overall timeout');
  process.exit(3);
}, (seconds + 90) * 1000);

// The page (tests/e2e/gateway/page/peer.js) keeps its connections in the script-scope `pcs`
// and its camera and microphone in `stream`.
const setSending = (page, on) => page.evaluate(async (on) => {
  for (const pc of pcs.values()) {
    for (const sender of pc.getSenders()) {
      const kind = sender.track ? sender.track.kind : sender._kind;
      if (!on && sender.track) sender._kind = sender.track.kind;
      const track = on ? stream.getTracks().find((t) => t.kind === kind) : null;
      await sender.replaceTrack(track);
    }
  }
}, on);

try {
  member = await launchMember([], 'roomcast-faults-chromium-');
  const { page } = member;
  page.on('console', (m) => console.error(`page: ${m.text()}`));
  await page.goto(url, { timeout: 15000 });
  await page.waitForFunction(() => window.peerState && window.peerState.connected.length > 0, null,
                             { timeout: 30000 });
  const connectedAt = Date.now();
  console.error(`browser_faults: connected; staying ${seconds} s`);
  let paused = false;
  let resumed = false;
  while (Date.now() - connectedAt < seconds * 1000) {
    await page.waitForTimeout(200);
    const t = (Date.now() - connectedAt) / 1000;
    if (pauseAt !== null && !paused && t >= pauseAt) {
      await setSending(page, false);
      paused = true;
      console.error('browser_faults: paused');
    } else if (paused && !resumed && t >= pauseAt + pauseFor) {
      await setSending(page, true);
      resumed = true;
      console.error('browser_faults: resumed');
    }
  }
  const state = await page.evaluate(() => ({
    ...window.peerState,
    pcs: [...pcs.values()].map((pc) => ({ connection: pc.connectionState, ice: pc.iceConnectionState })),
  }));
  console.log(JSON.stringify({ state }));
  await member.close();
  member = null;
} catch (e) {
  console.error(`browser_faults: ${e && e.stack ? e.stack : e}`);
  process.exitCode = 2;
} finally {
  clearTimeout(deadline);
  if (member) await member.close();
}
