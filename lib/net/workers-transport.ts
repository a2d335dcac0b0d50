import { connect, type Socket } from 'cloudflare:sockets';
import type { Transport, TransportEvents, TransportFactory, TransportOptions } from './transport.js';
import { checkWorkersTls } from './workers-tls.js';

/**
 * A TCP socket from Workers' `cloudflare:sockets` (workerd, with or without
 * nodejs_compat). A Workers socket belongs to the request that opened it, so a
 * Group must not outlive its request: make one per request and close it before
 * the request ends (README, "Runtimes").
 */
export const workersTransport: TransportFactory = (options: TransportOptions, events: TransportEvents): Transport =>
  new WorkersTransport(options, events);

/** What `#transport` is under the `workerd` and `worker` conditions (package.json "imports"). */
export { workersTransport as defaultTransport };

class WorkersTransport implements Transport {
  private readonly socket: Socket;
  private readonly writer: WritableStreamDefaultWriter<Uint8Array>;
  private closed = false;
  private readonly onError = (error: unknown): void => this.finish(error);
  private readonly onReady = (): void => {
    if (!this.closed) this.events.onDrain();
  };

  constructor(
    options: TransportOptions,
    private readonly events: TransportEvents,
  ) {
    // keepAliveDelay has no counterpart: the runtime owns the socket's TCP settings.
    const socket = connect(
      { hostname: options.host, port: options.port },
      { secureTransport: secureTransport(options), allowHalfOpen: false },
    );
    this.socket = socket;
    this.writer = socket.writable.getWriter();
    // Its failure is also the reader's and the opener's, reported through them.
    socket.closed.catch(ignore);
    socket.opened.then(() => {
      if (!this.closed) events.onOpen();
    }, this.onError);
    void this.read(socket.readable.getReader());
  }

  write(chunks: readonly Uint8Array[]): boolean {
    // The stream queues the writes in order and keeps each chunk (never reused by the writer) until sent.
    const writer = this.writer;
    for (let i = 0; i < chunks.length; i++) writer.write(chunks[i]!).catch(this.onError);
    const room = writer.desiredSize;
    if (room === null || room > 0) return true;
    writer.ready.then(this.onReady, this.onError);
    return false;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.close().catch(ignore);
  }

  // A Workers socket keeps nothing alive beyond its request: nothing to ref.
  ref(): void {}

  unref(): void {}

  private async read(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (this.closed) return;
        if (done) break;
        // A default reader's chunk is a buffer of its own, never read into again: values may be views of it.
        this.events.onData(value, true);
      }
    } catch (error) {
      this.finish(error);
      return;
    }
    this.finish(undefined);
  }

  private finish(error: unknown): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.close().catch(ignore);
    this.events.onClose(error === undefined || error instanceof Error ? error : new Error(String(error)));
  }
}

/**
 * Workers verify the server's certificate against public CAs for the host
 * connected to, and take no other TLS setting: refuse the ones that would be
 * silently ignored rather than connect differently than asked.
 */
function secureTransport(options: TransportOptions): 'on' | 'off' {
  if (options.tls === undefined) return 'off';
  checkWorkersTls(options.tls, options.host);
  return 'on';
}

function ignore(): void {}
