// Headless Chromium on the web client's watch view (?room=NAME&watch=1): opens each URL given,
// waits for the view's state (the data-state of its status line), and for a playing view
// samples the <video> (currentTime, decoded frames, the picture's luma) for a few seconds.
// With a token as the step's "retoken", a view that asks for a token gets it typed into its
// prompt and is waited on again. Prints one JSON line: one result per step.
//
// Usage: node watch_page.mjs STEPS_JSON
//   STEPS_JSON: [{ "url": ..., "want": "playing"|"waiting"|"needsToken", "retoken": "..."? }]
import { launchMember } from './chromium_member.mjs';

const steps = JSON.parse(process.argv[2]);
const SAMPLE_SECONDS = 6;

let member;
const deadline = setTimeout(() => {
  console.error('watch_page: overall timeout');
  process.exit(3);
}, 240 * 1000);

// The state the view shows, its text, and the video's numbers and picture.
async function snapshot(page) {
  return page.evaluate(() => {
    const status = document.querySelector('.watch-status');
    const video = document.querySelector('video[data-testid="watch-video"]');
    const out = {
      state: status ? status.getAttribute('data-state') : null,
      text: status ? status.textContent : null,
      tokenPrompt: !!document.querySelector('form input'),
    };
    if (video) {
      out.currentTime = video.currentTime;
      out.paused = video.paused;
      out.width = video.videoWidth;
      out.height = video.videoHeight;
      const q = video.getVideoPlaybackQuality ? video.getVideoPlaybackQuality() : null;
      out.frames = q ? q.totalVideoFrames : 0;
      if (video.videoWidth > 0) {
        const c = document.createElement('canvas');
        c.width = 64;
        c.height = 36;
        const g = c.getContext('2d', { willReadFrequently: true });
        g.drawImage(video, 0, 0, 64, 36);
        const px = g.getImageData(0, 0, 64, 36).data;
        let sum = 0;
        let sq = 0;
        const n = px.length / 4;
        for (let i = 0; i < px.length; i += 4) {
          const y = 0.299 * px[i] + 0.587 * px[i + 1] + 0.114 * px[i + 2];
          sum += y;
          sq += y * y;
        }
        out.luma = sum / n;
        out.lumaStddev = Math.sqrt(Math.max(0, sq / n - (sum / n) ** 2));
      }
    }
    return out;
  });
}

async function waitState(page, want, seconds) {
  const until = Date.now() + seconds * 1000;
  let last = null;
  while (Date.now() < until) {
    last = await snapshot(page);
    if (last.state === want) return { reached: true, last };
    await new Promise((r) => setTimeout(r, 250));
  }
  return { reached: false, last };
}

// A playing view: wait for its first frame, then sample it once a second.
async function samplePlaying(page) {
  const samples = [];
  const until = Date.now() + 30000;
  while (Date.now() < until) {
    const s = await snapshot(page);
    if (s.width > 0 && s.frames > 0) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  for (let i = 0; i <= SAMPLE_SECONDS; ++i) {
    samples.push(await snapshot(page));
    if (i < SAMPLE_SECONDS) await new Promise((r) => setTimeout(r, 1000));
  }
  return samples;
}

try {
  // Real host candidates (no mDNS names): the watch view never asks for a camera.
  const flags = ['--autoplay-policy=no-user-gesture-required', '--disable-features=WebRtcHideLocalIpsWithMdns'];
  member = await launchMember(flags).catch((e) => {
    console.error(`watch_page: launch failed once (${e.message.split('\n')[0]}); again`);
    return launchMember(flags);
  });
  const { page } = member;
  page.on('console', (m) => console.error(`page: ${m.text()}`));
  const results = [];
  for (const step of steps) {
    await page.goto(step.url);
    const r = { url: step.url, want: step.want };
    let w = await waitState(page, step.want, 60);
    r.reached = w.reached;
    r.seen = w.last;
    if (w.reached && step.retoken) {
      // The token prompt: type a good token and watch.
      await page.fill('form input', step.retoken);
      await page.click('form button[type="submit"]');
      w = await waitState(page, 'playing', 60);
      r.afterToken = { reached: w.reached, seen: w.last };
      if (w.reached) r.samples = await samplePlaying(page);
    } else if (w.reached && step.want === 'playing') {
      r.samples = await samplePlaying(page);
    }
    // Leaving the page: the view DELETEs its session (pagehide).
    await page.goto('about:blank');
    results.push(r);
  }
  console.log(JSON.stringify(results));
} catch (e) {
  console.error(`watch_page: ${e && e.stack ? e.stack : e}`);
  process.exitCode = 2;
} finally {
  clearTimeout(deadline);
  if (member) await member.close();
}
