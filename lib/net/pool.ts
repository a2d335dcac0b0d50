import { ErrorCode, MemcacheError } from '../errors.js';
import { Opcode } from '../protocol/opcodes.js';
import { Kind, Operation, promiseOf } from '../protocol/operation.js';
import { Connection, type ConnectionObserver, type ConnectionOptions } from './connection.js';

export interface PoolOptions extends Omit<ConnectionOptions, 'observer'> {
  /** Connections to the server; operations go to the least busy. */
  connections: number;
  /** Operations allowed in flight on the server at once; more are refused with MC_ERR_QUEUE_FULL. */
  maxQueueSize: number;
  /** Bytes of requests allowed to wait on the server at once (queued, unwritten or unanswered); more are refused with MC_ERR_QUEUE_FULL. */
  maxQueueBytes: number;
  /** First delay before probing a failed server, in ms; doubled on every failed probe. */
  retryDelay: number;
  /** Cap on that delay, in ms. */
  maxRetryDelay: number;
}

/** What a pool tells its group about the server's health. */
export interface PoolObserver {
  /** The server just failed while in use; operations for it now fail fast. */
  onDown(pool: Pool, error: MemcacheError): void;
  /** A probe of the down server failed; `pool.failures` counts the failures in a row. */
  onProbeFailed(pool: Pool, error: MemcacheError): void;
  /** A probe got a reply: the server is usable again. */
  onUp(pool: Pool): void;
}

/**
 * The connections to one server, and that server's health.
 *
 * While the server is healthy, operations go to the connection with the
 * fewest in flight. When a connection fails with callers waiting (refused,
 * reset, timed out, corrupt), the server is marked down: from then on its
 * operations fail at once with MC_ERR_SERVER_DOWN instead of each waiting for
 * a timeout, and a probe (a Noop) is sent after a capped exponential backoff
 * with jitter. A probe must get a reply, not merely a TCP connection (a
 * stopped process still accepts connections), before the server counts as up.
 */
export class Pool implements ConnectionObserver {
  /** host:port */
  readonly address: string;
  /** Failures in a row: 0 while the server is up. */
  failures = 0;
  private down = false;
  private lastError: MemcacheError | null = null;
  private readonly connections: Connection[] = [];
  private probeTimer: ReturnType<typeof setTimeout> | null = null;
  private closed = false;
  private readonly probeTask = (): void => this.probe();

  constructor(
    private readonly options: PoolOptions,
    private readonly observer: PoolObserver,
  ) {
    for (let i = 0; i < options.connections; i++) this.connections.push(new Connection({ ...options, observer: this }));
    this.address = this.connections[0]!.address;
  }

  get isDown(): boolean {
    return this.down;
  }

  /** Operations in flight on all connections. */
  get inFlight(): number {
    let total = 0;
    for (const connection of this.connections) total += connection.inFlight;
    return total;
  }

  send(op: Operation): void {
    if (this.down) {
      op.fail(this.downError());
      return;
    }
    const connections = this.connections;
    let best = connections[0]!;
    let total = best.inFlight;
    for (let i = 1; i < connections.length; i++) {
      const connection = connections[i]!;
      total += connection.inFlight;
      if (connection.inFlight < best.inFlight) best = connection;
    }
    if (total >= this.options.maxQueueSize) {
      op.fail(
        new MemcacheError(ErrorCode.QUEUE_FULL, `${total} operations already wait on this server (maxQueueSize)`, {
          server: this.address,
        }),
      );
      return;
    }
    best.send(op);
  }

  /** Closes every connection once its operations have settled; stops probing. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.probeTimer !== null) clearTimeout(this.probeTimer);
    this.probeTimer = null;
    await Promise.all(this.connections.map((c) => c.close()));
  }

  // ---- ConnectionObserver ----

  onOpen(): void {}

  onFailure(_connection: Connection, error: MemcacheError, idle: boolean): void {
    // An idle socket closed by the server hurt no one: the next operation reconnects.
    if (idle || this.closed) return;
    this.lastError = error;
    // Already down: the other connections failing too, or a probe (which counts itself).
    if (this.down) return;
    this.down = true;
    this.failures = 1;
    this.observer.onDown(this, error);
    this.scheduleProbe();
  }

  // ---- probing ----

  private scheduleProbe(): void {
    if (this.closed || this.probeTimer !== null) return;
    const ceiling = Math.min(this.options.maxRetryDelay, this.options.retryDelay * 2 ** (this.failures - 1));
    // "Equal jitter": at least half the delay, so retries neither stampede nor come too early.
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    const timer = setTimeout(this.probeTask, delay);
    (timer as { unref?: () => void }).unref?.();
    this.probeTimer = timer;
  }

  private probe(): void {
    this.probeTimer = null;
    if (this.closed) return;
    const op = new Operation(Kind.Noop, Opcode.Noop);
    const reply = promiseOf<void>(op);
    this.connections[0]!.send(op);
    reply.then(
      () => {
        if (this.closed) return;
        this.down = false;
        this.failures = 0;
        this.lastError = null;
        this.observer.onUp(this);
      },
      (error: MemcacheError) => {
        if (this.closed) return;
        this.failures++;
        this.lastError = error;
        this.observer.onProbeFailed(this, error);
        this.scheduleProbe();
      },
    );
  }

  private downError(): MemcacheError {
    const last = this.lastError;
    // A rejected password or certificate is the caller's to fix: say so, not merely "down".
    if (last !== null && (last.code === ErrorCode.AUTH || last.code === ErrorCode.TLS)) {
      const what = last.code === ErrorCode.AUTH ? 'authentication' : 'the TLS handshake';
      return new MemcacheError(last.code, `${what} failed; failing fast until a probe succeeds`, {
        server: this.address,
        status: last.status,
        cause: last,
      });
    }
    return new MemcacheError(
      ErrorCode.SERVER_DOWN,
      `server is down (${this.failures} failure${this.failures === 1 ? '' : 's'} in a row); failing fast until a probe succeeds`,
      { server: this.address, cause: this.lastError ?? undefined },
    );
  }
}
