/**
 * The configuration endpoint's own small connection: one question at a
 * time, text protocol, its own deadline. Not a Pool: the endpoint is not a
 * node of the ring, and its health is not a node's.
 */

import { ErrorCode, MemcacheError } from '../errors.js';
import type { TlsOptions, Transport, TransportEvents, TransportFactory } from '../net/transport.js';
import {
  CONFIG_GET_CLUSTER,
  GET_LEGACY_CLUSTER,
  readConfigAnswer,
  type ClusterConfig,
  type ConfigCommand,
} from './cluster-config.js';

export interface ConfigEndpointOptions {
  host: string;
  port: number;
  /** host:port, for messages. */
  address: string;
  transport: TransportFactory;
  connectTimeout: number;
  /** ms a question may wait for its answer once connected. */
  timeout: number;
  keepAliveDelay: number;
  tls: TlsOptions | undefined;
}

const QUESTIONS: Record<ConfigCommand, Uint8Array> = {
  config: new TextEncoder().encode(CONFIG_GET_CLUSTER),
  get: new TextEncoder().encode(GET_LEGACY_CLUSTER),
};

interface Question {
  resolve(config: ClusterConfig): void;
  reject(error: MemcacheError): void;
}

/**
 * Asks `config get cluster`, and `get AmazonElastiCache:cluster` when the
 * engine answers ERROR (before 1.4.14; remembered for the connection's
 * life). The socket never keeps the process alive (unref'd from the start):
 * what waits for a first cluster holds its own timer. Any failure closes the
 * socket; the next question connects again.
 */
export class ConfigEndpoint implements TransportEvents {
  private transport: Transport | null = null;
  private open = false;
  private legacy = false;
  private command: ConfigCommand = 'config';
  private question: Question | null = null;
  private received: Uint8Array = new Uint8Array(0);
  private timer: ReturnType<typeof setTimeout> | null = null;
  private closed = false;

  constructor(private readonly options: ConfigEndpointOptions) {}

  get address(): string {
    return this.options.address;
  }

  /** The current configuration; rejects with a MemcacheError. One question at a time. */
  ask(): Promise<ClusterConfig> {
    if (this.closed) return Promise.reject(new MemcacheError(ErrorCode.CLIENT_CLOSED, 'group is closed', { server: this.address }));
    if (this.question !== null) return Promise.reject(new Error('ConfigEndpoint: one question at a time'));
    return new Promise<ClusterConfig>((resolve, reject) => {
      this.question = { resolve, reject };
      if (this.transport === null) this.connect();
      else this.send();
    });
  }

  /** Closes the socket; a question in flight rejects with MC_ERR_CLIENT_CLOSED. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.fail(new MemcacheError(ErrorCode.CLIENT_CLOSED, 'group is closed', { server: this.address }));
  }

  // ---- TransportEvents ----

  onOpen(): void {
    this.open = true;
    if (this.question !== null) this.send();
  }

  onData(chunk: Uint8Array): void {
    // The chunk is only lent; answers are small, so they are copied whole.
    const joined = new Uint8Array(this.received.length + chunk.length);
    joined.set(this.received);
    joined.set(chunk, this.received.length);
    this.received = joined;
    if (this.question === null) {
      this.fail(new MemcacheError(ErrorCode.PROTOCOL, 'configuration endpoint sent bytes nobody asked for', { server: this.address }));
      return;
    }
    let answer;
    try {
      answer = readConfigAnswer(joined, this.command, this.address);
    } catch (error) {
      this.fail(error as MemcacheError);
      return;
    }
    if (answer === null) return;
    this.received = new Uint8Array(0);
    if (answer.kind === 'cluster') {
      this.clearTimer();
      const question = this.question;
      this.question = null;
      question.resolve(answer.config);
      return;
    }
    if (answer.kind === 'unknown-command' && !this.legacy) {
      this.legacy = true;
      this.send();
      return;
    }
    const what = answer.kind === 'miss' ? 'has no AmazonElastiCache:cluster item' : 'knows neither config get cluster nor get AmazonElastiCache:cluster';
    // A healthy socket to the wrong kind of server: kept, the question may be asked again later.
    this.clearTimer();
    const question = this.question;
    this.question = null;
    question.reject(
      new MemcacheError(ErrorCode.UNSUPPORTED, `configuration endpoint ${what}: not an ElastiCache (Memcached) configuration endpoint`, {
        server: this.address,
      }),
    );
  }

  onDrain(): void {}

  onClose(error: Error | undefined): void {
    const wasOpen = this.open;
    this.transport = null;
    const code = wasOpen ? ErrorCode.CONN_CLOSED : ErrorCode.CONNECT;
    const text = error === undefined ? 'closed by the endpoint' : error.message;
    const failure =
      error instanceof MemcacheError
        ? error
        : new MemcacheError(code, `configuration endpoint ${wasOpen ? 'connection closed' : 'connection failed'}: ${text}`, {
            server: this.address,
            cause: error,
          });
    this.fail(failure);
  }

  // ---- internals ----

  private connect(): void {
    const { host, port, keepAliveDelay, tls, transport } = this.options;
    this.open = false;
    this.legacy = false;
    this.received = new Uint8Array(0);
    this.arm(this.options.connectTimeout, ErrorCode.CONNECT_TIMEOUT, `not connected to the configuration endpoint within ${this.options.connectTimeout} ms`);
    try {
      this.transport = transport({ host, port, keepAliveDelay, tls }, this);
    } catch (error) {
      this.fail(new MemcacheError(ErrorCode.CONNECT, `configuration endpoint: ${(error as Error).message}`, { server: this.address, cause: error }));
      return;
    }
    // Polling alone must not keep the process alive.
    this.transport.unref();
  }

  private send(): void {
    if (!this.open || this.transport === null) return;
    this.command = this.legacy ? 'get' : 'config';
    this.arm(this.options.timeout, ErrorCode.TIMEOUT, `configuration endpoint gave no answer within ${this.options.timeout} ms`);
    this.transport.write([QUESTIONS[this.command]]);
  }

  private arm(ms: number, code: ErrorCode, message: string): void {
    this.clearTimer();
    const timer = setTimeout(() => {
      this.timer = null;
      this.fail(new MemcacheError(code, message, { server: this.address }));
    }, ms);
    (timer as { unref?: () => void }).unref?.();
    this.timer = timer;
  }

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Drops the socket (the next question reconnects) and rejects the question in flight. */
  private fail(error: MemcacheError): void {
    this.clearTimer();
    const transport = this.transport;
    this.transport = null;
    this.open = false;
    this.received = new Uint8Array(0);
    transport?.close();
    const question = this.question;
    this.question = null;
    question?.reject(error);
  }
}
