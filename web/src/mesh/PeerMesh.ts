// Owns one RTCPeerConnection per remote member and runs the offer/answer steps
// that roomMachine decides on.

import type { ClientMessage, SessionDescription, WireCandidate } from '../protocol/messages';
import type { IceState } from '../room/roomMachine';
import { CandidateQueue } from './candidateQueue';

/** A message for one peer, before RoomSession adds `to`. */
export type OutgoingSignal =
  | { type: 'offer'; offer: SessionDescription }
  | { type: 'answer'; answer: SessionDescription }
  | { type: 'candidate'; candidate: WireCandidate | null };

export interface MeshListener {
  signal(peerId: string, message: OutgoingSignal): void;
  remoteStream(peerId: string, stream: MediaStream): void;
  iceState(peerId: string, state: IceState): void;
  /** The state of a kept pair (see keep()), by its key. */
  keptState(key: string, state: IceState): void;
}

type QueuedCandidate = WireCandidate | null;

interface PeerLink {
  readonly pc: RTCPeerConnection;
  readonly candidates: CandidateQueue<QueuedCandidate>;
  /** Every step on a pair runs after the one before: SDP steps must not interleave. */
  chain: Promise<void>;
  remote: MediaStream;
  localAttached: boolean;
  closed: boolean;
  /** Set once kept (see keep()): from then on it neither signals nor reports under a server id. */
  keptAs: string | null;
}

const KINDS = ['audio', 'video'] as const;

export function toOutgoingSignalMessage(peerId: string, s: OutgoingSignal): ClientMessage {
  switch (s.type) {
    case 'offer':
      return { type: 'offer', to: peerId, offer: s.offer };
    case 'answer':
      return { type: 'answer', to: peerId, answer: s.answer };
    case 'candidate':
      return { type: 'candidate', to: peerId, candidate: s.candidate };
  }
}

/**
 * Thread-free but event-driven: every handler it installs checks that its
 * link is still current, so a late callback from a closed connection never
 * touches a newer one. It holds no React state; the local stream is read
 * through a getter at the moment it is needed.
 */
export class PeerMesh {
  /** Live pairs, by the remote member's server id. */
  private readonly links = new Map<string, PeerLink>();
  /** Pairs kept across a WebSocket drop, by a local key: no server id reaches them. */
  private readonly kept = new Map<string, PeerLink>();

  constructor(
    private readonly iceServers: RTCIceServer[],
    private readonly localStream: () => MediaStream | null,
    private readonly listener: MeshListener,
  ) {}

  /** We offer: as the newcomer (attach our tracks, receive the rest) or to restart ICE. */
  offer(peerId: string, iceRestart: boolean): void {
    const link = this.ensure(peerId);
    this.enqueue(peerId, link, async () => {
      if (!link.localAttached) {
        this.attachForOffer(link);
      }
      if (iceRestart) link.pc.restartIce();
      const offer = await link.pc.createOffer(iceRestart ? { iceRestart: true } : undefined);
      if (link.closed) return;
      await link.pc.setLocalDescription(offer);
      this.sendDescription(peerId, link);
    });
  }

  /** Any offer, from a visible or a hidden member, is answered with our local tracks. */
  acceptOffer(peerId: string, offer: SessionDescription): void {
    const link = this.ensure(peerId);
    link.candidates.hold();
    this.enqueue(peerId, link, async () => {
      // In have-local-offer this is an implicit rollback: we yield to the other side.
      await link.pc.setRemoteDescription(offer);
      if (link.closed) return;
      await this.flushCandidates(link);
      if (!link.localAttached) {
        // addTrack reuses the transceivers the offer created, so a recvonly
        // offer (the hidden recorder's) is answered sendonly with our tracks.
        const stream = this.localStream();
        for (const track of stream?.getTracks() ?? []) {
          if (track.readyState === 'live') link.pc.addTrack(track, stream!);
        }
        link.localAttached = true;
      }
      const answer = await link.pc.createAnswer();
      if (link.closed) return;
      await link.pc.setLocalDescription(answer);
      this.sendDescription(peerId, link);
    });
  }

  acceptAnswer(peerId: string, answer: SessionDescription): void {
    const link = this.links.get(peerId);
    if (!link) return;
    link.candidates.hold();
    this.enqueue(peerId, link, async () => {
      // A stray answer (no offer of ours pending) is dropped.
      if (link.pc.signalingState === 'have-local-offer') await link.pc.setRemoteDescription(answer);
      await this.flushCandidates(link);
    });
  }

  addCandidate(peerId: string, candidate: WireCandidate | null): void {
    const link = this.links.get(peerId);
    if (!link) return;
    if (!link.candidates.push(candidate)) return;
    this.enqueue(peerId, link, () => this.applyCandidate(link, candidate));
  }

  close(peerId: string): void {
    const link = this.links.get(peerId);
    if (!link) return;
    this.links.delete(peerId);
    this.shut(link);
  }

  /**
   * Takes a pair out of reach of server ids: after a rejoin an id may name
   * another member (or the same one on a new connection), so answers,
   * candidates and offers of that id must make a new pair, not touch this one.
   */
  keep(peerId: string, key: string): void {
    const link = this.links.get(peerId);
    if (!link) return;
    this.links.delete(peerId);
    link.keptAs = key;
    link.candidates.clear();
    this.kept.set(key, link);
  }

  closeKept(key: string): void {
    const link = this.kept.get(key);
    if (!link) return;
    this.kept.delete(key);
    this.shut(link);
  }

  /** Closes the live pairs; kept ones stay. */
  closeLive(): void {
    for (const link of this.links.values()) this.shut(link);
    this.links.clear();
  }

  /** Closes every pair, kept ones included. */
  closeAll(): void {
    this.closeLive();
    for (const link of this.kept.values()) this.shut(link);
    this.kept.clear();
  }

  has(peerId: string): boolean {
    return this.links.has(peerId);
  }

  private ensure(peerId: string): PeerLink {
    const existing = this.links.get(peerId);
    if (existing) return existing;
    const pc = new RTCPeerConnection({ iceServers: this.iceServers });
    const link: PeerLink = {
      pc,
      candidates: new CandidateQueue<QueuedCandidate>(),
      chain: Promise.resolve(),
      remote: new MediaStream(),
      localAttached: false,
      closed: false,
      keptAs: null,
    };
    pc.onicecandidate = (e) => {
      // A kept pair has no addressee: its peer's id belongs to an old server connection.
      if (link.closed || link.keptAs !== null) return;
      // An empty candidate string is an end-of-generation marker; null follows it.
      if (e.candidate && e.candidate.candidate === '') return;
      const candidate: WireCandidate | null = e.candidate
        ? { candidate: e.candidate.candidate, sdpMid: e.candidate.sdpMid, sdpMLineIndex: e.candidate.sdpMLineIndex }
        : null;
      this.listener.signal(peerId, { type: 'candidate', candidate });
    };
    pc.ontrack = (e) => {
      if (link.closed || link.keptAs !== null) return;
      const tracks = link.remote.getTracks().filter((t) => t.kind !== e.track.kind || t === e.track);
      if (!tracks.includes(e.track)) tracks.push(e.track);
      // A new MediaStream object, so that the presentation sees the change.
      link.remote = new MediaStream(tracks);
      this.listener.remoteStream(peerId, link.remote);
    };
    pc.oniceconnectionstatechange = () => {
      if (link.closed) return;
      const state = pc.iceConnectionState as IceState;
      if (link.keptAs !== null) this.listener.keptState(link.keptAs, state);
      else this.listener.iceState(peerId, state);
    };
    pc.onconnectionstatechange = () => {
      // DTLS may end a kept pair (the recorder closed it) before ICE notices.
      const s = pc.connectionState;
      if (!link.closed && link.keptAs !== null && (s === 'failed' || s === 'closed')) this.listener.keptState(link.keptAs, s);
    };
    this.links.set(peerId, link);
    return link;
  }

  /** As offerer: send what we have, and receive both kinds even without a camera or a mic. */
  private attachForOffer(link: PeerLink): void {
    const stream = this.localStream();
    for (const kind of KINDS) {
      const track = stream?.getTracks().find((t) => t.kind === kind && t.readyState === 'live');
      if (track && stream) {
        link.pc.addTransceiver(track, { direction: 'sendrecv', streams: [stream] });
      } else {
        link.pc.addTransceiver(kind, { direction: 'recvonly' });
      }
    }
    link.localAttached = true;
  }

  private sendDescription(peerId: string, link: PeerLink): void {
    const desc = link.pc.localDescription;
    if (!desc || link.closed || link.keptAs !== null) return;
    if (desc.type === 'offer') this.listener.signal(peerId, { type: 'offer', offer: { type: 'offer', sdp: desc.sdp } });
    else if (desc.type === 'answer') this.listener.signal(peerId, { type: 'answer', answer: { type: 'answer', sdp: desc.sdp } });
  }

  private async flushCandidates(link: PeerLink): Promise<void> {
    for (const c of link.candidates.release()) await this.applyCandidate(link, c);
  }

  private async applyCandidate(link: PeerLink, c: QueuedCandidate): Promise<void> {
    if (link.closed) return;
    try {
      // No argument means end of candidates.
      if (c === null) await link.pc.addIceCandidate();
      else await link.pc.addIceCandidate(c);
    } catch (err) {
      // A candidate of an older ICE generation or for a rejected m-line: harmless.
      console.debug('roomcast: candidate ignored', err);
    }
  }

  private enqueue(peerId: string, link: PeerLink, step: () => Promise<void>): void {
    link.chain = link.chain
      .then(() => (link.closed ? undefined : step()))
      .catch((err: unknown) => {
        console.warn(`roomcast: negotiation with ${peerId} failed`, err);
        if (link.closed) return;
        if (link.keptAs !== null) this.listener.keptState(link.keptAs, 'failed');
        else this.listener.iceState(peerId, 'failed');
      });
  }

  private shut(link: PeerLink): void {
    if (link.closed) return;
    link.closed = true;
    link.candidates.clear();
    link.pc.onicecandidate = null;
    link.pc.ontrack = null;
    link.pc.oniceconnectionstatechange = null;
    link.pc.onconnectionstatechange = null;
    link.pc.close();
  }
}
