// Drives headless Debian Chromium (through the web client's playwright-core) as one room member
// whose camera changes size and frame rate mid-call, as a browser does under congestion or when a
// person switches cameras: every RESIZE_EVERY seconds after connecting, the camera track gets
// applyConstraints() alternating between BIG (30 fps) and SMALL (15 fps). With CODEC (vp8, h264,
// vp9) the page takes the gateway's offer as if that codec came first in it (see preferCodec),
// so Chromium really sends it whatever the gateway's offer prefers.
//
// Usage: node browser_resize.mjs URL SECONDS RESIZE_EVERY BIGxH SMALLxH [CODEC]
// Logs "browser_resize: connected", "browser_resize: size WxH@FPS" (stderr) and prints one JSON
// line at the end: the page's state, the sizes asked for, and one outbound-video sample per
// second (frame size, codec, encoder).
import { launchMember } from '../e2e/gateway/chromium_member.mjs';

const [url, secondsText, everyText, bigText, smallText, codec] = process.argv.slice(2);
const seconds = Number(secondsText || 16);
const every = Number(everyText || 4);
const parseSize = (t) => t.split('x').map(Number);
const big = parseSize(bigText || '1280x720');
const small = parseSize(smallText || '640x360');

let member;
const deadline = setTimeout(() => {
  console.error('browser_resize: overall timeout');
  process.exit(3);
}, (seconds + 90) * 1000);

// Runs in the page before its own script. Chromium sends with the first codec of the offer's
// list that it shares, whatever the answer lists first (setCodecPreferences orders only the
// answer: measured, it then still sent the gateway's first choice). So each remote offer's video
// m-lines get the wanted codec's payload types moved to the front, as a browser without the
// gateway's first choice would answer, and setCodecPreferences puts it first in the answer too.
function preferCodec(name) {
  const mime = `video/${name}`.toLowerCase();
  const reorder = (sdp) => {
    const lines = sdp.split('\r\n');
    const wanted = new Set();
    for (const l of lines) {
      const m = /^a=rtpmap:(\d+) ([^/]+)\//.exec(l);
      if (m && m[2].toLowerCase() === name.toLowerCase()) wanted.add(m[1]);
    }
    return lines.map((l) => {
      if (!l.startsWith('m=video ')) return l;
      const parts = l.split(' ');
      const pts = parts.slice(3);
      return [...parts.slice(0, 3), ...pts.filter((p) => wanted.has(p)), ...pts.filter((p) => !wanted.has(p))].join(' ');
    }).join('\r\n');
  };
  const apply = RTCPeerConnection.prototype.setRemoteDescription;
  RTCPeerConnection.prototype.setRemoteDescription = async function (desc, ...rest) {
    if (desc && desc.type === 'offer' && desc.sdp) desc = { type: desc.type, sdp: reorder(desc.sdp) };
    const result = await apply.call(this, desc, ...rest);
    const caps = RTCRtpSender.getCapabilities('video');
    const first = caps.codecs.filter((c) => c.mimeType.toLowerCase() === mime);
    if (!first.length) {
      console.log(`no ${mime} in this browser`);
      return result;
    }
    const others = caps.codecs.filter((c) => c.mimeType.toLowerCase() !== mime);
    for (const t of this.getTransceivers()) {
      if (t.receiver.track && t.receiver.track.kind === 'video') t.setCodecPreferences([...first, ...others]);
    }
    return result;
  };
}

// The outbound video of every connection: frame size, codec, encoder.
const outbound = (page) => page.evaluate(async () => {
  const out = [];
  for (const pc of pcs.values()) {
    const report = await pc.getStats();
    report.forEach((r) => {
      if (r.type !== 'outbound-rtp' || r.kind !== 'video') return;
      const c = r.codecId ? report.get(r.codecId) : null;
      out.push({ frameWidth: r.frameWidth, frameHeight: r.frameHeight, framesPerSecond: r.framesPerSecond,
                 framesEncoded: r.framesEncoded, codec: c ? c.mimeType : null,
                 encoderImplementation: r.encoderImplementation,
                 qualityLimitationReason: r.qualityLimitationReason });
    });
  }
  return out;
});

try {
  member = await launchMember([], 'roomcast-faults-chromium-');
  const { page } = member;
  page.on('console', (m) => console.error(`page: ${m.text()}`));
  if (codec) await page.addInitScript(preferCodec, codec.toUpperCase());
  await page.goto(url, { timeout: 15000 });
  await page.waitForFunction(() => window.peerState && window.peerState.connected.length > 0, null,
                             { timeout: 30000 });
  const connectedAt = Date.now();
  console.error(`browser_resize: connected; staying ${seconds} s, resizing every ${every} s`);
  const asked = [];
  const samples = [];
  let step = 0;
  let nextSample = 1;
  while (Date.now() - connectedAt < seconds * 1000) {
    await page.waitForTimeout(100);
    const t = (Date.now() - connectedAt) / 1000;
    if (t >= (step + 1) * every) {
      step += 1;
      const [w, h] = step % 2 ? small : big;
      const fps = step % 2 ? 15 : 30;
      // The page (tests/e2e/gateway/page/peer.js) keeps its camera in the script-scope `stream`.
      await page.evaluate(({ w, h, fps }) => stream.getVideoTracks()[0].applyConstraints(
        { width: { exact: w }, height: { exact: h }, frameRate: { ideal: fps } }), { w, h, fps });
      asked.push({ t, width: w, height: h, fps });
      console.error(`browser_resize: size ${w}x${h}@${fps}`);
    }
    if (t >= nextSample) {
      nextSample += 1;
      samples.push({ t, video: await outbound(page) });
    }
  }
  const state = await page.evaluate(() => window.peerState);
  console.log(JSON.stringify({ state, asked, samples }));
  await member.close();
  member = null;
} catch (e) {
  console.error(`browser_resize: ${e && e.stack ? e.stack : e}`);
  process.exitCode = 2;
} finally {
  clearTimeout(deadline);
  if (member) await member.close();
}
