// Drives headless Debian Chromium (through the web client's playwright-core) as one visible room member for N seconds.
//
// Usage: node browser_peer.mjs URL SECONDS [Y4M_FILE]
// Prints one JSON line with the page's state and outbound video stats at the end.
import { launchMember } from './chromium_member.mjs';

const [url, secondsText, y4m] = process.argv.slice(2);
const seconds = Number(secondsText || 10);

let member;
const deadline = setTimeout(() => {
  console.error('browser_peer: overall timeout');
  process.exit(3);
}, (seconds + 60) * 1000);

try {
  member = await launchMember(y4m ? [`--use-file-for-fake-video-capture=${y4m}`] : []);
  const { page } = member;
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
  await member.close();
  member = null;
} catch (e) {
  console.error(`browser_peer: ${e && e.stack ? e.stack : e}`);
  process.exitCode = 2;
} finally {
  clearTimeout(deadline);
  if (member) await member.close();
}
