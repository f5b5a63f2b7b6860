// A visible room-protocol member written from shared/specs/room-protocol.md alone:
// join, answer every offer (hidden or not) with the local camera and microphone, trickle ICE.
// State for the test driver is kept in window.peerState.
'use strict';

const params = new URLSearchParams(location.search);
const room = params.get('room') || 'e2e';
const name = params.get('name') || 'browser';
const state = (window.peerState = { joined: false, id: null, offers: 0, answered: 0, recording: null,
                                    connected: [], errors: [] });
const pcs = new Map(); // peer id -> RTCPeerConnection
const legacy = []; // connections from before a rejoin, still sending
let stream = null;

function log(...args) {
  const line = args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ');
  document.getElementById('log').textContent += line + '\n';
  console.log(line);
}

async function main() {
  const width = Number(params.get('width') || 1280);
  const height = Number(params.get('height') || 720);
  stream = await navigator.mediaDevices.getUserMedia({
    audio: true,
    video: { width: { ideal: width }, height: { ideal: height }, frameRate: { ideal: 30 } },
  });
  // A detailed scene: tell the encoder to keep resolution and spend bits on it.
  for (const t of stream.getVideoTracks()) t.contentHint = 'detail';
  document.getElementById('self').srcObject = stream;
  const s = stream.getVideoTracks()[0].getSettings();
  state.capture = { width: s.width, height: s.height, frameRate: s.frameRate };
  log('capture', state.capture);

  connect();
}

// Signaling comes and goes (a room server restart); peer connections stay up.
function connect() {
  const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`);
  const send = (msg) => {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
  };
  ws.onopen = () => send({ type: 'join', room, name });
  ws.onclose = (e) => {
    log('ws closed', e.code, '; reconnecting');
    setTimeout(connect, 500);
  };
  ws.onmessage = async (event) => {
    const msg = JSON.parse(event.data);
    try {
      await handle(msg, send);
    } catch (e) {
      state.errors.push(String(e));
      log('error', String(e));
    }
  };
}

// ?turn=turn:HOST:PORT&turnUser=U&turnPass=P&relay=1: a TURN server, and only relayed
// candidates (iceTransportPolicy 'relay', as behind a strict NAT or a corporate firewall).
function rtcConfiguration() {
  const turn = params.get('turn');
  const config = { iceServers: [] };
  if (turn) config.iceServers.push({ urls: turn, username: params.get('turnUser') || '', credential: params.get('turnPass') || '' });
  if (params.get('relay') === '1') config.iceTransportPolicy = 'relay';
  return config;
}

function peerConnection(id, send) {
  let pc = pcs.get(id);
  if (pc) return pc;
  pc = new RTCPeerConnection(rtcConfiguration());
  pcs.set(id, pc);
  pc.onicecandidate = (e) => send({ type: 'candidate', to: id, candidate: e.candidate ? e.candidate.toJSON() : null });
  pc.onicecandidateerror = (e) => log('candidate error', e.url || '', e.errorCode, e.errorText || '');
  pc.onconnectionstatechange = () => {
    log('pc', id, pc.connectionState);
    if (pc.connectionState === 'connected') state.connected.push(id);
  };
  for (const track of stream.getTracks()) pc.addTrack(track, stream);
  return pc;
}

async function handle(msg, send) {
  switch (msg.type) {
    case 'welcome':
      // Peer ids belong to one server lifetime: after a rejoin an id may name
      // someone else, so existing connections keep running but are no longer
      // reachable by id.
      for (const pc of pcs.values()) legacy.push(pc);
      pcs.clear();
      state.welcomes = (state.welcomes || 0) + 1;
      state.joined = true;
      state.id = msg.id;
      state.recording = msg.recording;
      log('welcome', msg.id, msg.peers);
      break;
    case 'recording':
      state.recording = msg.active;
      break;
    case 'offer': {
      state.offers++;
      const pc = peerConnection(msg.from, send);
      await pc.setRemoteDescription(msg.offer);
      // recvonly offer: our transceivers must send.
      for (const t of pc.getTransceivers()) {
        if (t.receiver.track && !t.sender.track) {
          const track = stream.getTracks().find((k) => k.kind === t.receiver.track.kind);
          if (track) await t.sender.replaceTrack(track);
        }
        if (t.direction === 'recvonly' || t.direction === 'inactive') t.direction = 'sendonly';
      }
      const answer = await pc.createAnswer();
      await pc.setLocalDescription(answer);
      send({ type: 'answer', to: msg.from, answer: { type: 'answer', sdp: pc.localDescription.sdp } });
      state.answered++;
      log('answered', msg.from);
      break;
    }
    case 'candidate': {
      const pc = pcs.get(msg.from);
      if (pc && msg.candidate && msg.candidate.candidate) await pc.addIceCandidate(msg.candidate);
      break;
    }
    case 'peer-left': {
      const pc = pcs.get(msg.id);
      if (pc) pc.close();
      pcs.delete(msg.id);
      break;
    }
    case 'error':
      log('server error', msg.code, msg.message);
      break;
  }
}

// Outbound video stats of every connection, for the test's diagnosis.
window.videoStats = async () => {
  const out = [];
  for (const [id, pc] of [...pcs, ...legacy.map((pc) => ['legacy', pc])]) {
    const report = await pc.getStats();
    report.forEach((r) => {
      if (r.type === 'outbound-rtp' && r.kind === 'video')
        out.push({ id, frameWidth: r.frameWidth, frameHeight: r.frameHeight, framesPerSecond: r.framesPerSecond,
                   bytesSent: r.bytesSent, targetBitrate: r.targetBitrate,
                   qualityLimitationReason: r.qualityLimitationReason,
                   qualityLimitationDurations: r.qualityLimitationDurations, encoderImplementation: r.encoderImplementation });
      if (r.type === 'candidate-pair' && r.nominated) {
        const local = report.get(r.localCandidateId);
        out.push({ id, availableOutgoingBitrate: r.availableOutgoingBitrate, pairState: r.state,
                   localCandidateType: local ? local.candidateType : null });
      }
    });
  }
  return out;
};

main().catch((e) => {
  state.errors.push(String(e));
  log('fatal', String(e));
});
