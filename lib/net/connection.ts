import { type Command, isRepeatable } from '../command.js';
import { ErrorCode, MemcacheError } from '../errors.js';
import type { Codec, CodecFactory, ReplyTarget } from '../protocol/codec.js';
import type { SaslCredentials } from './credentials.js';
import type { TlsOptions, Transport, TransportEvents, TransportFactory } from './transport.js';
import { close as closeChannel, connect as connectChannel, connectError as connectErrorChannel } from '#diagnostics';
import type { Channel } from '../diagnostics/channel.js';
import { FlushQueue, type Flushable } from './flush-queue.js';

export interface ConnectionOptions {
  host: string;
  port: number;
  /** Milliseconds an operation may wait for its reply (connecting included). */
  timeout: number;
  /** Milliseconds a connection attempt may take. */
  connectTimeout: number;
  keepAliveDelay: number;
  /** Largest value accepted, in bytes. */
  maxValueSize: number;
  transport: TransportFactory;
  /** The wire protocol: how commands become bytes and replies settle them. */
  codec: CodecFactory;
  /** Encrypt the connection. */
  tls?: TlsOptions | undefined;
  /** Authenticate every new connection before anything else is sent (as the codec's protocol does it). */
  sasl?: SaslCredentials | undefined;
  /** Told when the connection fails (the pool's failover hook). */
  observer?: ConnectionObserver | undefined;
  /** The write task shared by a Group's connections (flush-queue.ts); default: one of its own. */
  flushQueue?: FlushQueue | undefined;
}


export interface ConnectionObserver {
  /**
   * The connection failed and is closed; `lost` operations failed with it
   * (written and unanswered, or waiting for a connection that could not be
   * made). `lost` is 0 when no caller was hurt: an idle socket closed by the
   * server, or a close before the waiting operations were written (those go
   * out again on a fresh connection).
   */
  onFailure(connection: Connection, error: MemcacheError, lost: number): void;
}

/** Runs a task once the sockets have been read (after the poll phase), so replies already received count. */
const afterReads: (task: () => void) => void =
  typeof setImmediate === 'function' ? (task) => void setImmediate(task) : (task) => void setTimeout(task, 0);

const IDLE = 0;
const CONNECTING = 1;
const OPEN = 2;
const CLOSED = 3;

/**
 * One pipelined connection to one server, speaking through a Codec.
 *
 * Commands are encoded as they arrive and written once per event-loop turn,
 * with what every socket's replies set off (flush-queue.ts), except the only
 * call in flight in the Group, written after a microtask (see send);
 * any number may be in flight. Replies come back in order, so the commands
 * form a FIFO (linked through `Command.next`) and the codec settles the head
 * with each reply it reads (a reply that matches it not means the stream is
 * out of step: the codec throws, and the connection is dropped). The FIFO's
 * front part has been written, its back part (commands numbered past
 * `flushedSeq`) waits in the codec: when the server closes the socket, only
 * the written part fails; the rest goes out on a fresh connection. One timer
 * watches the oldest command's deadline. When anything goes wrong (timeout,
 * socket error, server close, corrupt bytes) the written commands are
 * rejected at once and the socket is destroyed, so a late reply can never
 * reach anyone.
 */
export class Connection implements TransportEvents, ReplyTarget, Flushable {
  /** host:port, for messages. */
  readonly address: string;
  /** Commands queued and not yet answered (settled ones included until their reply). */
  inFlight = 0;
  /** Bytes of those commands' requests (Command.bytes). */
  queuedBytes = 0;

  private state = IDLE;
  private closing = false;
  /** Socket open, SASL reply awaited: still connecting as far as callers and timers go. */
  private authenticating = false;
  private transport: Transport | null = null;
  // Made when the connection is first used: a pool of many idle connections costs little.
  private codec: Codec | null = null;
  private first: Command | null = null;
  private last: Command | null = null;
  /** Sequence number of the last operation queued, and of the last one handed to the transport. */
  private queuedSeq = 0;
  private flushedSeq = 0;
  /** First sequence number of the last flush, and when it happened (a late write is not the server's fault). */
  private lastFlushFrom = 0;
  private lastFlushAt = 0;
  /** The transport asked us to wait for its drain before writing more. */
  private blocked = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private connectDeadline = 0;
  private flushScheduled = false;
  private checkScheduled = false;
  private batchDeadline = 0;
  private readonly flushTask = (): void => this.flush();
  private readonly timerTask = (): void => this.onTimer();
  private readonly checkTask = (): void => this.checkDeadlines();
  private closeWaiters: (() => void)[] = [];

  private readonly flushQueue: FlushQueue;

  constructor(private readonly options: ConnectionOptions) {
    this.address = formatAddress(options.host, options.port);
    this.flushQueue = options.flushQueue ?? new FlushQueue();
  }

  /** Encodes and queues a command; it settles through its own resolve/reject. */
  send(op: Command): void {
    if (this.closing || this.state === CLOSED) {
      op.fail(new MemcacheError(ErrorCode.CLIENT_CLOSED, 'connection is closed', { server: this.address }));
      return;
    }
    const codec = (this.codec ??= this.options.codec(
      { maxValueSize: this.options.maxValueSize, sasl: this.options.sasl, server: this.address },
      this,
    ));
    try {
      codec.encode(op);
    } catch (error) {
      // Bad input: nothing was committed to the codec, so nothing is sent.
      op.fail(error as Error);
      return;
    }
    op.seq = ++this.queuedSeq;
    // One clock read per batch: operations written in the same tick share a deadline.
    if (!this.flushScheduled) this.batchDeadline = Date.now() + this.options.timeout;
    op.deadline = this.batchDeadline;
    if (this.last === null) this.first = op;
    else this.last.next = op;
    this.last = op;
    this.queuedBytes += op.bytes;
    const queue = this.flushQueue;
    queue.inFlight++;
    if (this.inFlight++ === 0 && this.transport !== null) this.transport.ref();
    if (this.timer === null && !this.checkScheduled) this.arm(this.options.timeout);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      // The only call in flight in the Group goes out as soon as the code that made it has run (a
      // microtask), not at the end of the turn: with nothing else to batch, waiting is only latency.
      // Any other call in flight on the Group means load, and writes stay one per turn.
      if (queue.inFlight === 1 && this.state === OPEN && !this.blocked) queueMicrotask(this.flushTask);
      else queue.add(this);
    }
    if (this.state === IDLE) this.connect();
  }

  /** Waits for the operations in flight to settle, then closes the socket. New operations are refused. */
  close(): Promise<void> {
    if (this.state === CLOSED) return Promise.resolve();
    this.closing = true;
    if (this.inFlight === 0) {
      this.shutDown();
      return Promise.resolve();
    }
    return new Promise((resolve) => this.closeWaiters.push(resolve));
  }

  // ---- transport events ----

  onOpen(): void {
    const codec = this.codec!;
    const handshake = codec.handshake();
    if (handshake.length > 0) this.transport!.write(handshake);
    // Authentication: queued commands wait for its reply (codec.ready()).
    if (codec.awaitingHandshake) this.authenticating = true;
    else this.opened();
  }

  onData(chunk: Uint8Array, kept?: boolean): void {
    try {
      this.codec!.read(chunk, kept === true);
    } catch (error) {
      this.fail(
        error instanceof MemcacheError
          ? withServer(error, this.address)
          : new MemcacheError(ErrorCode.PROTOCOL, 'could not decode reply', { server: this.address, cause: error }),
      );
    }
  }

  onDrain(): void {
    this.blocked = false;
    this.flush();
  }

  onClose(error: Error | undefined): void {
    this.transport = null;
    // A transport's own typed error (a TLS verification failure) is kept as it is.
    if (error instanceof MemcacheError) return this.fail(withServer(error, this.address));
    const connecting = this.state === CONNECTING;
    const text = error === undefined ? 'server closed the connection' : error.message;
    // Once the socket is open (authenticating included), a clean close (the peer's end of stream, as
    // memcached -S gives a request it will not read) with not a byte back may say what the server is.
    // A reset is a crash or a dropped connection (a server killed with it still in its backlog): no hint.
    const hint = (connecting && !this.authenticating) || error !== undefined ? null : (this.codec?.silenceHint?.() ?? null);
    // An authentication left unanswered is the server refusing the protocol itself (memcached -Y would
    // answer it). Requests alone may just have met a server closing connections: still a lost
    // connection, whose message carries the hint.
    const failure =
      hint !== null && this.authenticating
        ? new MemcacheError(ErrorCode.PROTOCOL, `${text} without answering anything: ${hint}`, { server: this.address, cause: error })
        : new MemcacheError(
            connecting ? ErrorCode.CONNECT : ErrorCode.CONN_CLOSED,
            connecting
              ? `could not connect: ${text}`
              : `connection lost: ${text}${hint === null ? '' : ` without answering anything (${hint})`}`,
            { server: this.address, cause: error },
          );
    // An open connection closed under us loses only what it had written.
    this.fail(failure, undefined, !connecting);
  }

  // ---- ReplyTarget: the codec's view of the FIFO ----

  head(): Command | null {
    const op = this.first;
    return op !== null && op.seq <= this.flushedSeq ? op : null;
  }

  complete(): void {
    const op = this.first!;
    this.first = op.next;
    op.next = null;
    if (this.first === null) this.last = null;
    this.queuedBytes -= op.bytes;
    this.flushQueue.inFlight--;
    if (--this.inFlight === 0) {
      if (this.closing) this.shutDown();
      else this.transport?.unref();
    }
  }

  ready(): void {
    this.authenticating = false;
    this.opened();
  }

  // ---- internals ----

  /** Connected (and authenticated): the queued frames go out. */
  private opened(): void {
    this.state = OPEN;
    if (connectChannel.hasSubscribers) this.publish(connectChannel, undefined);
    if (this.inFlight === 0) this.transport!.unref();
    this.flush();
  }

  private connect(): void {
    this.state = CONNECTING;
    this.connectDeadline = Date.now() + this.options.connectTimeout;
    this.rearm();
    try {
      this.transport = this.options.transport(
        {
          host: this.options.host,
          port: this.options.port,
          keepAliveDelay: this.options.keepAliveDelay,
          tls: this.options.tls,
        },
        this,
      );
    } catch (error) {
      this.fail(new MemcacheError(ErrorCode.CONNECT, 'could not connect', { server: this.address, cause: error }));
    }
  }

  /** Writes every request encoded and not yet written (the flush queue's task, and after a drain or a handshake). */
  flush(): void {
    this.flushScheduled = false;
    const codec = this.codec;
    if (this.state !== OPEN || this.blocked || codec === null || !codec.output.pending) return;
    this.lastFlushFrom = this.flushedSeq + 1;
    this.flushedSeq = this.queuedSeq;
    this.lastFlushAt = Date.now();
    const more = this.transport!.write(codec.output.drain());
    codec.output.drained();
    if (!more) this.blocked = true;
  }

  private arm(ms: number): void {
    const timer = setTimeout(this.timerTask, ms);
    // The socket keeps the process alive while operations are in flight; the timer must not.
    (timer as { unref?: () => void }).unref?.();
    this.timer = timer;
  }

  /** Re-arms the single timer for the nearest deadline. */
  private rearm(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const deadline = this.nearestDeadline();
    if (deadline !== Infinity) this.arm(Math.max(0, deadline - Date.now()));
  }

  private nearestDeadline(): number {
    const head = this.first;
    let deadline = head === null ? Infinity : this.deadlineOf(head);
    if (this.state === CONNECTING && this.connectDeadline < deadline) deadline = this.connectDeadline;
    return deadline;
  }

  /**
   * When the server's time for `op` is up. A request that only went out
   * after its deadline had passed (the event loop was blocked, by the caller
   * or the machine) gets `timeout` from its write: the stall was not the
   * server's.
   */
  private deadlineOf(op: Command): number {
    if (op.seq >= this.lastFlushFrom && op.seq <= this.flushedSeq && this.lastFlushAt > op.deadline) {
      return this.lastFlushAt + this.options.timeout;
    }
    return op.deadline;
  }

  /**
   * A deadline seems to have passed. The timer may have fired late (the
   * event loop was blocked) with replies already waiting in the socket:
   * judge only once the sockets have been read.
   */
  private onTimer(): void {
    this.timer = null;
    if (this.nearestDeadline() > Date.now()) return this.rearm();
    if (this.checkScheduled) return;
    this.checkScheduled = true;
    afterReads(this.checkTask);
  }

  private checkDeadlines(): void {
    this.checkScheduled = false;
    if (this.state === CLOSED) return;
    // A flush the stall held back goes out now, and its requests get their time from the write.
    if (this.flushScheduled) this.flush();
    const now = Date.now();
    if (this.state === CONNECTING) {
      const head = this.first;
      if (now >= this.connectDeadline || (head !== null && now >= head.deadline)) {
        const limit = Math.min(this.options.connectTimeout, this.options.timeout);
        const what = this.authenticating ? 'not authenticated' : 'not connected';
        this.fail(new MemcacheError(ErrorCode.CONNECT_TIMEOUT, `${what} within ${limit} ms`, { server: this.address }));
        return;
      }
      return this.rearm();
    }
    const head = this.first;
    if (head !== null && now >= this.deadlineOf(head)) {
      const hint = this.codec?.silenceHint?.() ?? null;
      const timedOut = new MemcacheError(
        ErrorCode.TIMEOUT,
        `no reply within ${this.options.timeout} ms; connection closed${hint === null ? '' : ` (nothing at all came back on it; ${hint})`}`,
        { server: this.address },
      );
      // The same code (the server did not answer in time), but only the head is said to have waited so long.
      const younger = new MemcacheError(
        ErrorCode.TIMEOUT,
        `connection closed because an older operation on it got no reply within ${this.options.timeout} ms`,
        { server: this.address, cause: timedOut },
      );
      return this.fail(timedOut, younger);
    }
    this.rearm();
  }

  /**
   * Drops the socket and rejects the operations in flight: the head with
   * `error`, the others with `others` (default: the same). With `closed`
   * (the server closed an open connection), nothing is lost that need not
   * be: operations not yet written stay queued, and reads written but
   * unanswered are sent once more (see isRepeatable), both on a fresh
   * connection.
   */
  private fail(error: MemcacheError, others: MemcacheError = error, closed = false): void {
    const was = this.state;
    if (was === CONNECTING && connectErrorChannel.hasSubscribers) this.publish(connectErrorChannel, error);
    else if (was === OPEN && closeChannel.hasSubscribers) this.publish(closeChannel, error);
    const transport = this.transport;
    this.transport = null;
    transport?.close();
    this.codec?.reset();
    this.authenticating = false;
    this.blocked = false;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const keep = closed && !this.closing;
    const flushed = keep ? this.flushedSeq : Infinity;
    const first = this.first;
    let op = first;
    let lost = 0;
    // Written reads to send again, in order, linked through `next`.
    let again: Command | null = null;
    let againTail: Command | null = null;
    while (op !== null && op.seq <= flushed) {
      const next = op.next;
      op.next = null;
      if (keep && !op.settled && !op.resent && isRepeatable(op)) {
        op.resent = true;
        if (againTail === null) again = op;
        else againTail.next = op;
        againTail = op;
      } else {
        this.queuedBytes -= op.bytes;
        this.inFlight--;
        this.flushQueue.inFlight--;
        if (!op.settled) lost++;
        op.fail(op === first ? error : others);
      }
      op = next;
    }
    // Without `keep` the loop took everything, and nothing waits in the codec for a next connection.
    if (!keep) this.codec?.output.discard();
    if (again !== null) this.resend(again, againTail!, op);
    else {
      this.first = op;
      if (op === null) this.last = null;
    }
    this.state = this.closing ? CLOSED : IDLE;
    if (this.state === CLOSED) this.releaseCloseWaiters();
    else {
      this.options.observer?.onFailure(this, error, lost);
      if (this.first !== null && this.state === IDLE) this.connect();
    }
  }

  /** Puts written reads back at the front of the queue, encoded again ahead of the frames never written. */
  private resend(first: Command, last: Command, unwritten: Command | null): void {
    const codec = this.codec!;
    const output = codec.output;
    const held = output.drain().slice();
    output.drained();
    // Encoded before as they are now: it cannot throw.
    for (let op: Command | null = first; op !== null; op = op.next) codec.encode(op);
    output.requeue(held);
    last.next = unwritten;
    if (unwritten === null) this.last = last;
    this.first = first;
    // They count as not yet written again.
    this.flushedSeq = first.seq - 1;
  }

  private shutDown(): void {
    if (this.state === OPEN && closeChannel.hasSubscribers) this.publish(closeChannel, undefined);
    const transport = this.transport;
    this.transport = null;
    transport?.close();
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.state = CLOSED;
    this.releaseCloseWaiters();
  }

  /** A connection's life on its diagnostics channel (memring:connect, memring:connect-error, memring:close). */
  private publish(channel: Channel, error: MemcacheError | undefined): void {
    channel.publish({ server: this.address, host: this.options.host, port: this.options.port, error });
  }

  private releaseCloseWaiters(): void {
    const waiters = this.closeWaiters;
    this.closeWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

/** A codec error gains the server's address. */
function withServer(error: MemcacheError, server: string): MemcacheError {
  if (error.server !== undefined) return error;
  return new MemcacheError(error.code, error.message, { server, status: error.status, cause: error.cause });
}

function formatAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
