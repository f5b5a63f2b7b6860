// Browser end-to-end tests of the web client: a mesh of three, hang-up,
// a hidden member and the recording banner, a denied camera.
// Run through run.sh, which starts the room server in a loopback-only namespace.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  baseUrl,
  expectPlayingRemotes,
  HiddenMember,
  joinRoom,
  launchBrowser,
  openLobby,
  openParticipant,
  recordingBannerVisible,
  remoteTileCount,
  remoteVideos,
  screenshotPath,
  SignalServerControl,
  waitFor,
} from './lib.mjs';

const ROOM = `e2e-${process.pid}`;

describe('roomcast web client', { timeout: 150_000 }, () => {
  let browser;
  let alice;
  let bob;
  let carol;

  before(async () => {
    browser = await launchBrowser();
    [alice, bob, carol] = await Promise.all([
      openParticipant(browser, 'alice'),
      openParticipant(browser, 'bob'),
      openParticipant(browser, 'carol'),
    ]);
  });

  const server = new SignalServerControl();

  after(async () => {
    await browser?.close();
    server.dispose();
  });

  it('three people in one room each see the two others playing', { timeout: 60_000 }, async () => {
    // One after the other, so that every join exercises "the newcomer offers".
    await joinRoom(alice, ROOM, 'Alice');
    await joinRoom(bob, ROOM, 'Bob');
    await joinRoom(carol, ROOM, 'Carol');
    for (const p of [alice, bob, carol]) {
      const videos = await expectPlayingRemotes(p, 2);
      assert.equal(new Set(videos.map((v) => v.id)).size, 2, `${p.label} sees two distinct peers`);
    }
    const names = await alice.page.locator('[data-testid=remote-tile] .tile-name').allTextContents();
    assert.deepEqual(names.sort(), ['Bob', 'Carol']);
    await alice.page.screenshot({ path: screenshotPath('web-three-person-room.png') });
  });

  it('a hidden member brings the recording banner to everyone and adds no tile', { timeout: 45_000 }, async () => {
    const helper = await browser.newPage();
    // A real origin: an about:blank page gathers no usable candidates here.
    await helper.goto(baseUrl);
    const hidden = new HiddenMember(ROOM, helper);
    try {
      const welcome = await hidden.join();
      assert.equal(welcome.recording, true);
      assert.equal(welcome.peers.length, 3);
      for (const p of [alice, bob, carol]) {
        await waitFor(`${p.label}: recording banner`, () => recordingBannerVisible(p.page), 5_000);
        assert.match((await p.page.getByTestId('recording-banner').textContent()) ?? '', /● Recording/);
      }
      // Offer recvonly audio+video like the gateway; every browser must answer with its tracks.
      for (const peer of welcome.peers) await hidden.offerTo(peer.id);
      for (const peer of welcome.peers) {
        const answer = await hidden.next(`answer from ${peer.id}`, (m) => m.type === 'answer' && m.from === peer.id);
        assert.match(answer.answer.sdp, /a=sendonly/, 'the answer sends local tracks to the hidden member');
        let seen;
        await waitFor(
          `hidden member receives video from ${peer.id}`,
          async () => (seen = await hidden.receiving(peer.id)).frames > 0,
          15_000,
        ).catch((err) => {
          throw new Error(`${err.message}; pair: ${JSON.stringify(seen)}; got: ${hidden.messages.map((m) => `${m.type}:${m.from ?? ""}:${m.type === "candidate" ? (m.candidate?.candidate ?? "null") : ""}`).join(" ")}`);
        });
      }
      for (const p of [alice, bob, carol]) {
        assert.equal(await remoteTileCount(p.page), 2, `${p.label} shows no tile for the hidden member`);
        const ids = (await remoteVideos(p.page)).map((v) => v.id);
        assert.ok(!ids.includes(welcome.id), `${p.label} has no tile with the hidden id`);
      }
      await bob.page.screenshot({ path: screenshotPath('web-recording-banner.png') });
    } finally {
      await hidden.leave();
      await helper.close();
    }
    for (const p of [alice, bob, carol]) {
      await waitFor(`${p.label}: recording banner gone`, async () => !(await recordingBannerVisible(p.page)), 5_000);
      assert.equal(await remoteTileCount(p.page), 2);
    }
  });

  it('hanging up drops the tile at the others within 2 s and returns to the lobby', { timeout: 20_000 }, async () => {
    await carol.page.getByRole('button', { name: 'Hang up' }).click();
    const started = Date.now();
    await Promise.all(
      [alice, bob].map((p) => waitFor(`${p.label}: carol's tile gone`, async () => (await remoteTileCount(p.page)) === 1, 2_000, 50)),
    );
    const elapsed = Date.now() - started;
    assert.ok(elapsed <= 2_000, `tiles dropped in ${elapsed} ms`);
    await carol.page.getByRole('button', { name: 'Join', exact: true }).waitFor({ timeout: 5_000 });
    // Hang-up stops the camera and closes every peer connection.
    const live = await carol.page.evaluate(() => document.querySelectorAll('video').length);
    assert.equal(live, 0);
    await carol.context.close();
  });

  it('with the camera and microphone denied, one can still join and receive the others', { timeout: 45_000 }, async () => {
    const dave = await openParticipant(browser, 'dave', { denyMedia: true });
    try {
      await joinRoom(dave, ROOM, 'Dave', { withoutMedia: true });
      await waitFor('dave: media notice', () => dave.page.getByTestId('media-notice').isVisible(), 5_000);
      assert.match((await dave.page.getByTestId('media-notice').textContent()) ?? '', /denied.*watching and listening only/s);
      await expectPlayingRemotes(dave, 2);
      // The others see Dave as a viewer tile without video.
      for (const p of [alice, bob]) {
        await waitFor(`${p.label}: dave's tile`, async () => (await remoteTileCount(p.page)) === 2, 15_000);
      }
      await dave.page.screenshot({ path: screenshotPath('web-denied-camera.png') });
    } finally {
      await dave.context.close();
    }
  });

  it('when the room server goes away, clients show it, rejoin under fresh ids and reconnect', { timeout: 45_000 }, async (t) => {
    if (!server.available) return t.skip('needs run.sh to control the room server');
    await server.stop();
    for (const p of [alice, bob]) {
      await waitFor(`${p.label}: reconnecting state`, async () => /Reconnecting/.test((await p.page.getByTestId('connection-status').textContent({ timeout: 500 })) ?? ''), 5_000);
      await waitFor(`${p.label}: tiles of the lost room gone`, async () => (await remoteTileCount(p.page)) === 0, 5_000);
    }
    await server.start();
    // The restarted server numbers ids afresh: each must see the other
    // under the id it holds now, not under a remembered one.
    const selfId = (p) => p.page.getByTestId('local-tile').getAttribute('data-peer-id');
    for (const [p, other] of [
      [alice, bob],
      [bob, alice],
    ]) {
      const now = await expectPlayingRemotes(p, 1, 25_000);
      assert.deepEqual(
        now.map((v) => v.id),
        [await selfId(other)],
        `${p.label} sees ${other.label} under its new id`,
      );
      assert.equal(await p.page.getByTestId('connection-status').count(), 0);
    }
  });

  it('a full room sends the newcomer back to the lobby with a clear message', { timeout: 30_000 }, async (t) => {
    if (!server.available) return t.skip('needs run.sh to give the room server command');
    const url = await server.startExtra('room-full', ['--max-peers-per-room', '1']);
    const [erin, frank] = await Promise.all([openParticipant(browser, 'erin'), openParticipant(browser, 'frank')]);
    try {
      await joinRoom(erin, 'small', 'Erin', { url });
      await openLobby(frank, 'small', url);
      await frank.page.getByLabel('Your name').fill('Frank');
      await frank.page.getByRole('button', { name: 'Join', exact: true }).click();
      await frank.page.getByTestId('lobby-message').waitFor({ timeout: 10_000 });
      assert.match((await frank.page.getByTestId('lobby-message').textContent()) ?? '', /room is full/);
      // Back in the lobby, camera released, and Join is offered again.
      await frank.page.getByRole('button', { name: 'Join', exact: true }).waitFor();
      assert.equal(await frank.page.locator('video').count(), 0);
    } finally {
      await Promise.all([erin.context.close(), frank.context.close()]);
    }
  });
  it("Chromium's WebSocket gets the server's bounded permessage-deflate, and 60 KiB messages pass", { timeout: 30_000 }, async () => {
    const page = await browser.newPage();
    try {
      await page.goto(baseUrl);
      const result = await page.evaluate(async () => {
        const url = new URL('/ws', location.href);
        url.protocol = 'ws:';
        const open = (name) => new Promise((resolve, reject) => {
          const ws = new WebSocket(url);
          const inbox = [];
          ws.onmessage = (e) => inbox.push(JSON.parse(e.data));
          ws.onerror = () => reject(new Error('websocket error'));
          ws.onopen = () => { ws.send(JSON.stringify({ type: 'join', room: 'deflate-check', name })); resolve({ ws, inbox }); };
        });
        const until = async (what, fn) => {
          for (let i = 0; i < 100; i++) { const v = fn(); if (v) return v; await new Promise((r) => setTimeout(r, 50)); }
          throw new Error(`timed out waiting for ${what}`);
        };
        const a = await open('a');
        await until('a welcome', () => a.inbox.find((m) => m.type === 'welcome'));
        const b = await open('b');
        const welcome = await until('b welcome', () => b.inbox.find((m) => m.type === 'welcome'));
        const sdp = 'v=0\r\n' + 'a=x-filler:'.padEnd(60_000, 'z') + '\r\n';
        a.ws.send(JSON.stringify({ type: 'offer', to: welcome.id, offer: { type: 'offer', sdp } }));
        const offer = await until('the offer', () => b.inbox.find((m) => m.type === 'offer'));
        const extensions = [a.ws.extensions, b.ws.extensions];
        a.ws.close(); b.ws.close();
        return { extensions, same: offer.offer.sdp === sdp };
      });
      for (const e of result.extensions) {
        assert.match(e, /permessage-deflate/);
        assert.match(e, /client_no_context_takeover/);
      }
      assert.equal(result.same, true, 'the 60 KiB offer arrives intact through compression both ways');
    } finally {
      await page.close();
    }
  });
});
