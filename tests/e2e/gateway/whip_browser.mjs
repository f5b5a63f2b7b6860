// Headless Chromium as a WHIP publisher (RFC 9725), written from the RFC alone: getUserMedia
// (fake devices), send-only transceivers, POST the offer once ICE gathering completed, set the
// answer, publish for N seconds, DELETE the Location.
//
// Usage: node whip_browser.mjs API_ORIGIN ROOM TOKEN SECONDS NAME
// The page is opened on the API's own origin (its /healthz), so the fetch is same-origin.
// Prints one JSON line: {status, location, connected, deleted, error?}.
import { launchMember } from './chromium_member.mjs';

const [origin, room, token, secondsText, name] = process.argv.slice(2);
const seconds = Number(secondsText || 8);
const deadline = setTimeout(() => {
  console.error('whip_browser: overall timeout');
  process.exit(3);
}, (seconds + 60) * 1000);

let member;
const result = { status: 0, location: '', connected: false, deleted: 0 };
try {
  member = await launchMember();
  const { page } = member;
  page.on('console', (m) => console.error(`page: ${m.text()}`));
  await page.goto(`${origin}/healthz`, { timeout: 15000 });
  Object.assign(result, await page.evaluate(async ({ url, token }) => {
    const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 360 }, audio: true });
    const pc = new RTCPeerConnection();
    for (const track of stream.getTracks()) pc.addTransceiver(track, { direction: 'sendonly', streams: [stream] });
    await pc.setLocalDescription(await pc.createOffer());
    // RFC 9725 allows trickle; the simplest client sends every candidate in the offer.
    await new Promise((resolve) => {
      if (pc.iceGatheringState === 'complete') resolve();
      pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && resolve());
      setTimeout(resolve, 5000);
    });
    const res = await fetch(url, {
      method: 'POST', body: pc.localDescription.sdp,
      headers: { 'Content-Type': 'application/sdp', Authorization: `Bearer ${token}` },
    });
    const text = await res.text();
    if (res.status !== 201) return { status: res.status, error: text };
    await pc.setRemoteDescription({ type: 'answer', sdp: text });
    window.whip = { pc, location: res.headers.get('Location'), token };
    return { status: res.status, location: window.whip.location };
  }, { url: `${origin}/whip/${room}?name=${encodeURIComponent(name)}`, token }));
  if (result.status === 201) {
    await page.waitForFunction(() => window.whip.pc.connectionState === 'connected', null, { timeout: 20000 });
    result.connected = true;
    console.error(`whip_browser: connected; publishing ${seconds} s`);
    await page.waitForTimeout(seconds * 1000);
    result.deleted = await page.evaluate(async () => {
      const res = await fetch(window.whip.location, {
        method: 'DELETE', headers: { Authorization: `Bearer ${window.whip.token}` } });
      window.whip.pc.close();
      return res.status;
    });
  }
} catch (e) {
  result.error = String(e && e.stack ? e.stack : e);
  process.exitCode = 2;
} finally {
  console.log(JSON.stringify(result));
  clearTimeout(deadline);
  if (member) await member.close();
}
