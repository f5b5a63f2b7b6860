// Headless Chromium as WHEP viewers of a roomcast room (RFC-style WHEP with fetch(), written from
// the draft alone): N recvonly RTCPeerConnections in one page, each POSTing its offer to
// /whep/ROOM, playing the answer in a <video>. Prints one JSON line: per viewer framesDecoded
// over time, and the wall-clock instants (ms since the epoch) at which the first viewer's
// picture turned bright (the test peer's flash frames), for the latency measurement.
//
// Usage: node whep_viewer.mjs WHEP_URL TOKEN SECONDS [VIEWERS]
import { launchMember } from './chromium_member.mjs';

const [whepUrl, token, secondsText, viewersText] = process.argv.slice(2);
const seconds = Number(secondsText || 10);
const viewers = Number(viewersText || 1);

let member;
const deadline = setTimeout(() => {
  console.error('whep_viewer: overall timeout');
  process.exit(3);
}, (seconds + 90) * 1000);

try {
  // The page's origin is not the API's: CORS is the control API's business (issue #14's CORS
  // paragraph), not this test's, so web security is off for this profile.
  // On a loaded machine Chromium can take longer than the launcher's 30 s to start: once more.
  // Real host candidates (no mDNS names): the page never asks for a camera, which would lift that.
  const flags = ['--disable-web-security', '--autoplay-policy=no-user-gesture-required',
    '--disable-features=WebRtcHideLocalIpsWithMdns'];
  member = await launchMember(flags).catch((e) => {
    console.error(`whep_viewer: launch failed once (${e.message.split('\n')[0]}); again`);
    return launchMember(flags);
  });
  const { page } = member;
  page.on('console', (m) => console.error(`page: ${m.text()}`));
  await page.goto('about:blank');
  const result = await page.evaluate(async ({ whepUrl, token, seconds, viewers }) => {
    const sessions = [];
    const flashes = [];
    const start = async (index) => {
      const pc = new RTCPeerConnection();
      pc.addTransceiver('video', { direction: 'recvonly' });
      pc.addTransceiver('audio', { direction: 'recvonly' });
      const video = document.createElement('video');
      video.muted = true;
      video.autoplay = true;
      video.playsInline = true;
      document.body.appendChild(video);
      pc.ontrack = (e) => {
        if (!video.srcObject) video.srcObject = e.streams[0] || new MediaStream([e.track]);
        else video.srcObject.addTrack(e.track);
      };
      await pc.setLocalDescription(await pc.createOffer());
      const t0 = Date.now();
      const res = await fetch(whepUrl, {
        method: 'POST',
        headers: { 'Content-Type': 'application/sdp', Authorization: `Bearer ${token}` },
        body: pc.localDescription.sdp,
      });
      const answer = await res.text();
      if (res.status !== 201) throw new Error(`POST ${res.status}: ${answer}`);
      const location = new URL(res.headers.get('Location'), whepUrl).toString();
      await pc.setRemoteDescription({ type: 'answer', sdp: answer });
      const s = { index, pc, video, location, answerMs: Date.now() - t0, samples: [] };
      sessions.push(s);
      return s;
    };
    const first = await start(0);
    for (let i = 1; i < viewers; ++i) await start(i);
    // Bright-frame detector on the first viewer: every presented frame's mean luma on a small
    // canvas, with the wall-clock time the frame was presented.
    const canvas = document.createElement('canvas');
    canvas.width = 64;
    canvas.height = 36;
    const g = canvas.getContext('2d', { willReadFrequently: true });
    let bright = false;
    const recent = [];
    const onFrame = (now, meta) => {
      g.drawImage(first.video, 0, 0, 64, 36);
      const px = g.getImageData(0, 0, 64, 36).data;
      let sum = 0;
      for (let i = 0; i < px.length; i += 4) sum += px[i] + px[i + 1] + px[i + 2];
      const luma = sum / (px.length / 4) / 3;
      // Date.now() now, less how long ago the frame was presented: performance.timeOrigin is
      // fixed at navigation and was seen 200+ ms off the system clock in headless Chromium.
      const wall = Date.now() - (performance.now() - (meta.presentationTime || now));
      const originWall = performance.timeOrigin + (meta.presentationTime || now);
      // The flash lights one tile of the grid: a jump over the recent darkest frame.
      recent.push(luma);
      if (recent.length > 20) recent.shift();
      const floor = Math.min(...recent);
      // The first frames have no floor yet: the picture appearing is not a flash.
      const lit = recent.length >= 5 && luma > floor + 12;
      if (!bright && lit) flashes.push({ wall, originWall, luma, floor });
      bright = lit;
      first.video.requestVideoFrameCallback(onFrame);
    };
    first.video.requestVideoFrameCallback(onFrame);
    const until = Date.now() + seconds * 1000;
    while (Date.now() < until) {
      await new Promise((r) => setTimeout(r, 1000));
      for (const s of sessions) {
        const stats = await s.pc.getStats();
        let frames = 0;
        stats.forEach((r) => {
          if (r.type === 'inbound-rtp' && r.kind === 'video') frames = r.framesDecoded || 0;
        });
        s.samples.push(frames);
      }
    }
    const out = sessions.map((s) => ({
      index: s.index, location: s.location, answerMs: s.answerMs, framesDecoded: s.samples,
      width: s.video.videoWidth, height: s.video.videoHeight, playing: !s.video.paused,
      state: s.pc.connectionState,
    }));
    // WHEP: DELETE the session on leave.
    const deletes = [];
    for (const s of sessions) {
      const r = await fetch(s.location, { method: 'DELETE', headers: { Authorization: `Bearer ${token}` } });
      deletes.push(r.status);
      s.pc.close();
    }
    return { sessions: out, flashes, deletes };
  }, { whepUrl, token, seconds, viewers });
  console.log(JSON.stringify(result));
  await member.close();
  member = null;
} catch (e) {
  console.error(`whep_viewer: ${e && e.stack ? e.stack : e}`);
  process.exitCode = 2;
} finally {
  clearTimeout(deadline);
  if (member) await member.close();
}
