import { ErrorCode, MemcacheError } from '../errors.js';
import { Command, type CommandHolder, Verb, commandError, promiseOf } from '../command.js';
import { Connection, type ConnectionObserver, type ConnectionOptions } from './connection.js';
import { serverDown, serverUp } from '#diagnostics';

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
  /** Another failure was counted while the server is down (`pool.failures` counts them in a row). */
  onFailure(pool: Pool, error: MemcacheError): void;
  /** A probe got a reply: the server is usable again. */
  onUp(pool: Pool): void;
}

/** Bytes a request takes besides its key and value: a header per frame and room for extras. */
const FRAME_OVERHEAD = 48;

/**
 * The connections to one server, and that server's health.
 *
 * While the server is healthy, operations go to the connection with the
 * fewest in flight. What may wait on the server is bounded twice, in
 * operations (`maxQueueSize`) and in bytes (`maxQueueBytes`); past either,
 * calls are refused with MC_ERR_QUEUE_FULL before anything is encoded. An
 * operation's slot is freed as soon as it settles (an aborted one does not
 * hold it until a reply that may never come); its bytes when its request
 * leaves the connection.
 *
 * When operations fail because of the server (written and unanswered, or
 * waiting for a connection that could not be made) the server is marked
 * down: from then on its operations fail at once with MC_ERR_SERVER_DOWN
 * instead of each waiting for a timeout, and a probe (a Noop) is sent after a
 * capped exponential backoff with jitter. A probe must get a reply, not merely
 * a TCP connection (a stopped process still accepts connections), before the
 * server counts as up. As in libmemcached, every failed operation counts
 * toward `failures` (those in flight when a connection fails, those failing
 * fast while the server is down, failed probes) until a probe succeeds.
 */
export class Pool implements ConnectionObserver, CommandHolder {
  /** host:port */
  readonly address: string;
  readonly host: string;
  readonly port: number;
  /** Failed operations in a row: 0 while the server is up. */
  failures = 0;
  private down = false;
  /** Failed probes in a row: the backoff's exponent. */
  private probeFailures = 0;
  private probing = false;
  /** Operations sent through the pool and not yet settled. */
  private waiting = 0;
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
    this.host = options.host;
    this.port = options.port;
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

  send(op: Command): void {
    if (this.down) {
      // Bad input is reported as such, not as the outage (and is no failure of the server's).
      const bad = commandError(op, this.options.maxValueSize);
      if (bad !== null) return op.fail(bad);
      const error = this.downError();
      this.failures++;
      op.fail(error);
      this.observer.onFailure(this, error);
      return;
    }
    const connections = this.connections;
    let best = connections[0]!;
    let bytes = best.queuedBytes;
    for (let i = 1; i < connections.length; i++) {
      const connection = connections[i]!;
      bytes += connection.queuedBytes;
      if (connection.inFlight < best.inFlight) best = connection;
    }
    if (this.waiting >= this.options.maxQueueSize) {
      op.fail(
        commandError(op, this.options.maxValueSize) ??
        new MemcacheError(ErrorCode.QUEUE_FULL, `${this.waiting} operations already wait on this server (maxQueueSize)`, {
          server: this.address,
        }),
      );
      return;
    }
    const size = requestSize(op);
    // One request always fits an empty queue, whatever its size.
    if (bytes > 0 && bytes + size > this.options.maxQueueBytes) {
      op.fail(
        commandError(op, this.options.maxValueSize) ??
        new MemcacheError(
          ErrorCode.QUEUE_FULL,
          `${bytes} bytes of requests already wait on this server; ${size} more would pass maxQueueBytes (${this.options.maxQueueBytes})`,
          { server: this.address },
        ),
      );
      return;
    }
    op.bytes = size;
    op.holder = this;
    this.waiting++;
    best.send(op);
  }

  /** Closes every connection once its operations have settled; stops probing. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.probeTimer !== null) clearTimeout(this.probeTimer);
    this.probeTimer = null;
    await Promise.all(this.connections.map((c) => c.close()));
  }

  // ---- CommandHolder ----

  release(): void {
    this.waiting--;
  }

  // ---- ConnectionObserver ----

  onFailure(connection: Connection, error: MemcacheError, lost: number): void {
    // Nobody was hurt (an idle socket closed by the server): the next operation reconnects.
    if (lost === 0 || this.closed) return;
    // A failed probe counts itself.
    if (this.probing && connection === this.connections[0]) return;
    this.lastError = error;
    this.failures += lost;
    if (this.down) {
      this.observer.onFailure(this, error);
      return;
    }
    this.down = true;
    this.probeFailures = 0;
    if (serverDown.hasSubscribers) {
      serverDown.publish({ server: this.address, host: this.host, port: this.port, error, failures: this.failures });
    }
    this.observer.onDown(this, error);
    this.scheduleProbe();
  }

  // ---- probing ----

  private scheduleProbe(): void {
    if (this.closed || this.probeTimer !== null) return;
    const ceiling = Math.min(this.options.maxRetryDelay, this.options.retryDelay * 2 ** this.probeFailures);
    // "Equal jitter": at least half the delay, so retries neither stampede nor come too early.
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    const timer = setTimeout(this.probeTask, delay);
    (timer as { unref?: () => void }).unref?.();
    this.probeTimer = timer;
  }

  private probe(): void {
    this.probeTimer = null;
    if (this.closed) return;
    const op = new Command(Verb.Noop);
    const reply = promiseOf<void>(op);
    this.probing = true;
    this.connections[0]!.send(op);
    reply.then(
      () => {
        this.probing = false;
        if (this.closed) return;
        this.down = false;
        this.failures = 0;
        this.probeFailures = 0;
        this.lastError = null;
        if (serverUp.hasSubscribers) serverUp.publish({ server: this.address, host: this.host, port: this.port });
        this.observer.onUp(this);
      },
      (error: MemcacheError) => {
        this.probing = false;
        if (this.closed) return;
        this.failures++;
        this.probeFailures++;
        this.lastError = error;
        this.observer.onFailure(this, error);
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

/**
 * What a request occupies until it leaves its connection: frames, keys and
 * value (a string by its length). Read before the codec has checked the
 * input: anything that is not a string or bytes counts as nothing.
 */
function requestSize(op: Command): number {
  const key: unknown = op.key;
  const keys = op.keys;
  let size = FRAME_OVERHEAD + (typeof key === 'string' ? key.length : 0);
  if (keys !== null) {
    size += keys.length * FRAME_OVERHEAD;
    for (let i = 0; i < keys.length; i++) size += keys[i]!.length;
  }
  const value: unknown = op.value;
  if (typeof value === 'string' || value instanceof Uint8Array) size += value.length;
  return size;
}
