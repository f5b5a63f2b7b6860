// Runs one stay in a room: feeds socket, mesh and user events into
// roomMachine and carries out the commands it returns.

import { PeerMesh, toOutgoingSignalMessage } from '../mesh/PeerMesh';
import type { ClientConfig } from '../config/clientConfig';
import { SignalingSocket } from '../signaling/SignalingSocket';
import { initialState, reduce, type Command, type RoomEvent, type RoomState } from './roomMachine';

export interface RoomSnapshot {
  room: RoomState;
  /** Remote media by peer id. */
  streams: ReadonlyMap<string, MediaStream>;
}

/**
 * The single mutable owner of a room visit. React reads it through
 * subscribe()/getSnapshot() (useSyncExternalStore), so no WebSocket or
 * RTCPeerConnection handler ever closes over stale component state.
 */
export class RoomSession {
  private state: RoomState = initialState;
  private streams = new Map<string, MediaStream>();
  private snapshot: RoomSnapshot = { room: this.state, streams: this.streams };
  private socket: SignalingSocket | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly mesh: PeerMesh;
  private readonly listeners = new Set<() => void>();
  private disposed = false;

  constructor(
    private readonly config: ClientConfig,
    localStream: () => MediaStream | null,
  ) {
    this.mesh = new PeerMesh(config.iceServers, localStream, {
      signal: (peerId, s) => {
        // Always addressed: a message without `to` would reach every member.
        this.socket?.send(toOutgoingSignalMessage(peerId, s));
      },
      remoteStream: (peerId, stream) => {
        if (!this.state.peers[peerId]) return;
        this.streams = new Map(this.streams).set(peerId, stream);
        this.dispatch({ type: 'media-arrived', peerId });
        this.publish();
      },
      iceState: (peerId, state) => this.dispatch({ type: 'ice-state', peerId, state }),
      keptState: (key, state) => this.dispatch({ type: 'kept-state', key, state }),
    });
  }

  /** Only call once the local stream exists or is known to be absent. */
  start(room: string, name: string | null): void {
    this.dispatch({ type: 'start', room, name });
  }

  hangup(): void {
    this.dispatch({ type: 'hangup' });
  }

  /** Ends everything without a trace: for unmount. Sends `leave` if joined. */
  dispose(): void {
    if (this.disposed) return;
    this.dispatch({ type: 'hangup' });
    this.disposed = true;
    this.clearRetry();
    this.mesh.closeAll();
    this.socket?.close();
    this.socket = null;
    this.listeners.clear();
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getSnapshot = (): RoomSnapshot => this.snapshot;

  private dispatch(event: RoomEvent): void {
    if (this.disposed) return;
    const { state, commands } = reduce(this.state, event);
    const changed = state !== this.state;
    this.state = state;
    for (const c of commands) this.run(c);
    if (changed) this.publish();
  }

  private publish(): void {
    // Streams of peers that are gone are dropped with them.
    const stale = [...this.streams.keys()].filter((id) => !this.state.peers[id]);
    if (stale.length > 0) {
      this.streams = new Map(this.streams);
      for (const id of stale) this.streams.delete(id);
    }
    this.snapshot = { room: this.state, streams: this.streams };
    for (const l of this.listeners) l();
  }

  private run(c: Command): void {
    switch (c.type) {
      case 'open-socket':
        this.socket?.close();
        this.socket = new SignalingSocket(this.config.signalUrl, {
          open: () => this.dispatch({ type: 'socket-open' }),
          message: (message) => this.dispatch({ type: 'server', message }),
          closed: (code, reason) => {
            this.socket = null;
            this.dispatch({ type: 'socket-closed', code, reason });
          },
        });
        break;
      case 'close-socket':
        this.socket?.close();
        this.socket = null;
        break;
      case 'send':
        this.socket?.send(c.message);
        break;
      case 'schedule-retry':
        this.clearRetry();
        this.retryTimer = setTimeout(() => {
          this.retryTimer = null;
          this.dispatch({ type: 'retry-due' });
        }, c.delayMs);
        break;
      case 'cancel-retry':
        this.clearRetry();
        break;
      case 'make-offer':
        this.mesh.offer(c.peerId, c.iceRestart);
        break;
      case 'accept-offer':
        this.mesh.acceptOffer(c.peerId, c.offer);
        break;
      case 'accept-answer':
        this.mesh.acceptAnswer(c.peerId, c.answer);
        break;
      case 'add-candidate':
        this.mesh.addCandidate(c.peerId, c.candidate);
        break;
      case 'close-peer':
        this.mesh.close(c.peerId);
        break;
      case 'keep-peer':
        this.mesh.keep(c.peerId, c.key);
        console.info(`roomcast: kept the connection to hidden member ${this.state.kept[c.key]?.formerId ?? c.peerId} as ${c.key}`);
        break;
      case 'close-kept':
        this.mesh.closeKept(c.key);
        console.info(`roomcast: closed kept connection ${c.key}`);
        break;
      case 'close-live-peers':
        this.mesh.closeLive();
        break;
      case 'close-all-peers':
        this.mesh.closeAll();
        break;
    }
  }

  private clearRetry(): void {
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }
}
