import { connect, isIP, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { ErrorCode, MemcacheError } from '../errors.js';
import type { TlsOptions, Transport, TransportEvents, TransportFactory, TransportOptions } from './transport.js';

/**
 * A TCP socket from `node:net`, or a TLS one from `node:tls` when
 * `options.tls` is set (Node, and Bun and Deno through their Node compatibility).
 */
export const nodeTransport: TransportFactory = (options: TransportOptions, events: TransportEvents): Transport =>
  new NodeTransport(options, events);

class NodeTransport implements Transport {
  private readonly socket: Socket;
  private closed = false;

  constructor(options: TransportOptions, events: TransportEvents) {
    const tls = options.tls;
    const socket = tls === undefined ? plainSocket(options) : tlsSocket(options, tls);
    this.socket = socket;
    let secured = false;
    socket.on(tls === undefined ? 'connect' : 'secureConnect', () => {
      secured = true;
      if (!this.closed) events.onOpen();
    });
    socket.on('data', (chunk: Uint8Array) => {
      if (!this.closed) events.onData(chunk);
    });
    socket.on('error', (error: Error) => {
      if (this.closed) return;
      this.closed = true;
      socket.destroy();
      // Before the handshake completes, a TLS socket's error is the handshake's (never a plaintext fallback).
      events.onClose(tls !== undefined && !secured ? tlsError(error) : error);
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

function plainSocket(options: TransportOptions): Socket {
  return connect({
    host: options.host,
    port: options.port,
    noDelay: true,
    keepAlive: true,
    keepAliveInitialDelay: options.keepAliveDelay,
  });
}

function tlsSocket(options: TransportOptions, tls: TlsOptions): Socket {
  const socket = connectTls({
    host: options.host,
    port: options.port,
    // SNI takes a name, not an address; an address is still checked against the certificate's IP SANs.
    servername: tls.servername ?? (isIP(options.host) === 0 ? options.host : undefined),
    ca: tls.ca as string | string[] | undefined,
    cert: tls.cert as string | undefined,
    key: tls.key as string | undefined,
    rejectUnauthorized: tls.rejectUnauthorized ?? true,
  });
  socket.setNoDelay(true);
  socket.setKeepAlive(true, options.keepAliveDelay);
  return socket;
}

function tlsError(error: Error): Error {
  const code = (error as { code?: unknown }).code;
  // Refused or unreachable is a connection failure, TLS or not.
  if (code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'EHOSTUNREACH' || code === 'ETIMEDOUT') return error;
  return new MemcacheError(ErrorCode.TLS, `TLS handshake failed: ${error.message}`, { cause: error });
}
