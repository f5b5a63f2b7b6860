// One WebSocket connection to the room server, with a connect timeout.

import { parseServerMessage, type ClientMessage, type ServerMessage } from '../protocol/messages';

export interface SocketListener {
  open(): void;
  message(message: ServerMessage): void;
  closed(code: number, reason: string): void;
}

const CONNECT_TIMEOUT_MS = 10_000;

/**
 * A thin shell over WebSocket. After close() or after the connection ends,
 * it reports nothing more, so a late event of an old socket can never be
 * mistaken for one of its replacement.
 */
export class SignalingSocket {
  private readonly ws: WebSocket;
  private done = false;
  private readonly timer: ReturnType<typeof setTimeout>;

  constructor(url: string, private readonly listener: SocketListener) {
    this.ws = new WebSocket(url);
    this.timer = setTimeout(() => {
      if (this.ws.readyState === WebSocket.CONNECTING) this.fail(1006, 'connect timeout');
    }, CONNECT_TIMEOUT_MS);
    this.ws.onopen = () => {
      clearTimeout(this.timer);
      if (!this.done) this.listener.open();
    };
    this.ws.onmessage = (e: MessageEvent) => {
      if (this.done) return;
      if (typeof e.data !== 'string') {
        console.warn('roomcast: binary frame from the room server ignored');
        return;
      }
      const parsed = parseServerMessage(e.data);
      if (parsed.ok) this.listener.message(parsed.message);
      else console.warn(`roomcast: message from the room server ignored (${parsed.reason})`);
    };
    this.ws.onclose = (e: CloseEvent) => this.fail(e.code, e.reason);
    // onerror is always followed by onclose, which carries the code.
  }

  get isOpen(): boolean {
    return !this.done && this.ws.readyState === WebSocket.OPEN;
  }

  send(message: ClientMessage): boolean {
    if (!this.isOpen) return false;
    this.ws.send(JSON.stringify(message));
    return true;
  }

  /** Closes without reporting: the owner already knows. */
  close(): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.timer);
    try {
      this.ws.close(1000);
    } catch {
      // Already closing.
    }
  }

  private fail(code: number, reason: string): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.timer);
    try {
      this.ws.close();
    } catch {
      // Already closed.
    }
    this.listener.closed(code, reason);
  }
}
