/**
 * The small socket shape a Connection drives. Node's net/tls, Workers'
 * `cloudflare:sockets` and anything else plug in behind it.
 */

/** What a transport reports. After `close()` is called, it reports nothing more. */
export interface TransportEvents {
  /** The connection is ready for writes. */
  onOpen(): void;
  /**
   * Bytes as they come off the socket. Unless `kept`, the chunk is only lent:
   * the transport may read into the same memory again once onData returns.
   * `kept`: it never writes over these bytes again (values may be views of them).
   */
  onData(chunk: Uint8Array, kept?: boolean): void;
  /** The transport has room again after a write() that returned false. */
  onDrain(): void;
  /**
   * The socket ended or failed; `error` is undefined for a clean close by the
   * peer. Reported as soon as the peer's end of stream is read, before any
   * later write() would be attempted on a socket the peer has closed.
   */
  onClose(error: Error | undefined): void;
}

export interface Transport {
  /**
   * Writes the chunks in order, as one socket write when the runtime allows.
   * Consumes the array synchronously; the chunks themselves may be held until
   * sent. Returns false when the transport's buffer is full: write no more
   * until onDrain.
   */
  write(chunks: readonly Uint8Array[]): boolean;
  /** Tears the socket down at once. No event follows. */
  close(): void;
  /** Keeps the process alive while requests are in flight (no-op where meaningless). */
  ref(): void;
  /** Lets the process exit while the connection is idle. */
  unref(): void;
}

export interface TransportOptions {
  host: string;
  port: number;
  /** TCP keep-alive probe delay in ms, so dead peers are noticed on idle connections. */
  keepAliveDelay: number;
  /** Encrypt the connection; undefined means plain TCP. Certificates are verified unless told otherwise. */
  tls?: TlsOptions | undefined;
}

/** TLS settings, as node:tls understands them (PEM strings or bytes). */
export interface TlsOptions {
  /** Trusted CA certificates; default: the runtime's store. */
  ca?: string | Uint8Array | readonly (string | Uint8Array)[] | undefined;
  /** Client certificate and key, for servers that ask for one. */
  cert?: string | Uint8Array | undefined;
  key?: string | Uint8Array | undefined;
  /** Name the server's certificate must carry; default: the host. */
  servername?: string | undefined;
  /** Default true. false accepts any certificate: for tests only. */
  rejectUnauthorized?: boolean | undefined;
}

export type TransportFactory = (options: TransportOptions, events: TransportEvents) => Transport;
