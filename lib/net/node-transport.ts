import { connect, type Socket } from 'node:net';
import type { Transport, TransportEvents, TransportFactory, TransportOptions } from './transport.js';

/** A plain TCP socket from `node:net` (Node, and Bun and Deno through their Node compatibility). */
export const nodeTransport: TransportFactory = (options: TransportOptions, events: TransportEvents): Transport =>
  new NodeTransport(options, events);

class NodeTransport implements Transport {
  private readonly socket: Socket;
  private closed = false;

  constructor(options: TransportOptions, events: TransportEvents) {
    const socket = connect({
      host: options.host,
      port: options.port,
      noDelay: true,
      keepAlive: true,
      keepAliveInitialDelay: options.keepAliveDelay,
    });
    this.socket = socket;
    socket.on('connect', () => {
      if (!this.closed) events.onOpen();
    });
    socket.on('data', (chunk: Uint8Array) => {
      if (!this.closed) events.onData(chunk);
    });
    socket.on('error', (error: Error) => {
      if (this.closed) return;
      this.closed = true;
      socket.destroy();
      events.onClose(error);
    });
    socket.on('close', () => {
      if (this.closed) return;
      this.closed = true;
      events.onClose(undefined);
    });
  }

  write(chunks: readonly Uint8Array[]): void {
    const socket = this.socket;
    if (chunks.length === 1) {
      socket.write(chunks[0]!);
      return;
    }
    // Corked writes leave as one writev: a big value is sent from its own buffer, uncopied.
    socket.cork();
    for (let i = 0; i < chunks.length; i++) socket.write(chunks[i]!);
    socket.uncork();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
  }

  ref(): void {
    this.socket.ref();
  }

  unref(): void {
    this.socket.unref();
  }
}
