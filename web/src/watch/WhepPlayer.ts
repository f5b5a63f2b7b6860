// Plays a room through WHEP: a receive-only RTCPeerConnection, the offer POSTed to the gateway,
// its answer applied, DELETE on the session when leaving. Runs the commands of watchMachine's
// reduce() and feeds it the outcomes; owned by the Watch component.

import { initialWatchState, reduce, type WatchCommand, type WatchEvent, type WatchParams, type WatchState } from './watchMachine';

export class WhepPlayer {
  private state: WatchState = initialWatchState;
  private pc: RTCPeerConnection | null = null;
  private location: string | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private generation = 0;

  constructor(
    private readonly params: WatchParams,
    private readonly onState: (s: WatchState) => void,
    private readonly onStream: (s: MediaStream | null) => void,
  ) {}

  start(): void {
    this.dispatch({ type: 'start' });
  }

  stop(): void {
    this.dispatch({ type: 'stop' });
  }

  private dispatch(event: WatchEvent): void {
    const step = reduce(this.state, event);
    this.state = step.state;
    this.onState(step.state);
    for (const c of step.commands) this.run(c);
  }

  private run(c: WatchCommand): void {
    if (c.type === 'connect') void this.connect();
    else if (c.type === 'hangUp') this.hangUp();
    else {
      if (this.retryTimer) clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(() => this.dispatch({ type: 'retryNow' }), c.delayMs);
    }
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return this.params.token ? { ...extra, Authorization: `Bearer ${this.params.token}` } : extra;
  }

  private async connect(): Promise<void> {
    const gen = ++this.generation;
    const pc = new RTCPeerConnection();
    this.pc = pc;
    const stream = new MediaStream();
    pc.addTransceiver('video', { direction: 'recvonly' });
    pc.addTransceiver('audio', { direction: 'recvonly' });
    pc.ontrack = (e) => {
      stream.addTrack(e.track);
      this.onStream(stream);
    };
    pc.onconnectionstatechange = () => {
      if (gen !== this.generation) return;
      if (pc.connectionState === 'connected') this.dispatch({ type: 'mediaConnected' });
      else if (pc.connectionState === 'failed' || pc.connectionState === 'disconnected') this.dispatch({ type: 'connectionLost' });
    };
    try {
      await pc.setLocalDescription(await pc.createOffer());
      const res = await fetch(this.params.endpoint, {
        method: 'POST',
        headers: this.headers({ 'Content-Type': 'application/sdp' }),
        body: pc.localDescription?.sdp ?? '',
      });
      const text = await res.text();
      if (gen !== this.generation) return;
      if (res.status !== 201) {
        this.dispatch({ type: 'httpError', status: res.status, body: text });
        return;
      }
      const loc = res.headers.get('Location');
      this.location = loc ? new URL(loc, this.params.endpoint).toString() : null;
      await pc.setRemoteDescription({ type: 'answer', sdp: text });
      this.dispatch({ type: 'answered' });
    } catch (e) {
      if (gen === this.generation) this.dispatch({ type: 'networkError', message: e instanceof Error ? e.message : String(e) });
    }
  }

  private hangUp(): void {
    ++this.generation;
    if (this.retryTimer && this.state.kind !== 'waiting') {
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
    }
    if (this.location) {
      // Best effort: the gateway also ends a session whose connection closes.
      void fetch(this.location, { method: 'DELETE', headers: this.headers(), keepalive: true }).catch(() => {});
      this.location = null;
    }
    this.pc?.close();
    this.pc = null;
    this.onStream(null);
  }
}
