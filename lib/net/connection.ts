import { ErrorCode, MemcacheError } from '../errors.js';
import { ResponseDecoder, type FrameHandler } from '../protocol/decoder.js';
import { Opcode, opcodeName } from '../protocol/opcodes.js';
import { Kind, type Operation, applyReply, encodeOperation, isRepeatable } from '../protocol/operation.js';
import { Status, describeStatus } from '../protocol/status.js';
import { RequestWriter } from '../protocol/writer.js';
import type { TlsOptions, Transport, TransportEvents, TransportFactory } from './transport.js';

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
  /** Encrypt the connection. */
  tls?: TlsOptions | undefined;
  /** Authenticate every new connection with SASL PLAIN before anything else is sent. */
  sasl?: SaslCredentials | undefined;
  /** Told when the connection fails (the pool's failover hook). */
  observer?: ConnectionObserver | undefined;
}

export interface SaslCredentials {
  username: string;
  password: string;
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

/**
 * When queued writes go out. Where the runtime has setImmediate, once per
 * event-loop turn: the replies read from every socket in one poll phase then
 * leave as one write per socket (with 4 servers and 64 in flight that is 14
 * operations per write instead of 6 with a microtask). Elsewhere, once per
 * microtask checkpoint.
 */
const defer: (task: () => void) => void =
  typeof setImmediate === 'function' ? (task) => void setImmediate(task) : queueMicrotask;

/** Runs a task once the sockets have been read (after the poll phase), so replies already received count. */
const afterReads: (task: () => void) => void =
  typeof setImmediate === 'function' ? (task) => void setImmediate(task) : (task) => void setTimeout(task, 0);

const IDLE = 0;
const CONNECTING = 1;
const OPEN = 2;
const CLOSED = 3;

/**
 * One pipelined connection to one server.
 *
 * Operations are encoded as they arrive and written once per tick (see defer);
 * any number may be in flight. Replies come back in order, so the operations
 * form a FIFO (linked through `Operation.next`) and each reply must carry the
 * head's opaque: anything else means the stream is out of step, and the
 * connection is dropped. The FIFO's front part has been written, its back
 * part (operations numbered past `flushedSeq`) waits in the writer: when the
 * server closes the socket, only the written part fails; the rest goes out on
 * a fresh connection. One timer watches the oldest operation's deadline.
 * When anything goes wrong (timeout, socket error, server close, corrupt
 * bytes) the written operations are rejected at once and the socket is
 * destroyed, so a late reply can never reach anyone.
 */
export class Connection implements TransportEvents, FrameHandler {
  /** host:port, for messages. */
  readonly address: string;
  /** Operations queued and not yet answered (settled ones included until their reply). */
  inFlight = 0;
  /** Bytes of those operations' requests (Operation.bytes). */
  queuedBytes = 0;

  private state = IDLE;
  private closing = false;
  /** Socket open, SASL reply awaited: still connecting as far as callers and timers go. */
  private authenticating = false;
  private transport: Transport | null = null;
  /** The SASL PLAIN request, built on first use: it goes out ahead of every queued frame. */
  private authRequest: Uint8Array | null = null;
  // Made when the connection is first used: a pool of many idle connections costs little.
  private writer: RequestWriter | null = null;
  private decoder: ResponseDecoder | null = null;
  private head: Operation | null = null;
  private tail: Operation | null = null;
  private nextOpaque = 1;
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

  constructor(private readonly options: ConnectionOptions) {
    this.address = formatAddress(options.host, options.port);
  }

  /** Encodes and queues an operation; it settles through its own resolve/reject. */
  send(op: Operation): void {
    if (this.closing || this.state === CLOSED) {
      op.fail(new MemcacheError(ErrorCode.CLIENT_CLOSED, 'connection is closed', { server: this.address }));
      return;
    }
    const writer = (this.writer ??= new RequestWriter(this.options.maxValueSize));
    const frames = op.frames;
    if (this.nextOpaque + frames > 0xffffffff) this.nextOpaque = 1;
    op.opaque = this.nextOpaque;
    op.lastOpaque = op.opaque + frames - 1;
    try {
      encodeOperation(writer, op);
    } catch (error) {
      // Bad input: nothing was committed to the writer, so nothing is sent.
      op.fail(error as Error);
      return;
    }
    this.nextOpaque += frames;
    op.seq = ++this.queuedSeq;
    // One clock read per batch: operations written in the same tick share a deadline.
    if (!this.flushScheduled) this.batchDeadline = Date.now() + this.options.timeout;
    op.deadline = this.batchDeadline;
    if (this.tail === null) this.head = op;
    else this.tail.next = op;
    this.tail = op;
    this.queuedBytes += op.bytes;
    if (this.inFlight++ === 0 && this.transport !== null) this.transport.ref();
    if (this.timer === null && !this.checkScheduled) this.arm(this.options.timeout);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      defer(this.flushTask);
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
    if (this.options.sasl !== undefined) {
      // memcached -S answers anything sent before authentication with an error and a close.
      this.authenticating = true;
      this.transport!.write([(this.authRequest ??= authFrame(this.options.sasl))]);
      return;
    }
    this.opened();
  }

  onData(chunk: Uint8Array): void {
    try {
      this.decoder!.push(chunk);
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
    const failure = new MemcacheError(
      connecting ? ErrorCode.CONNECT : ErrorCode.CONN_CLOSED,
      connecting ? `could not connect: ${text}` : `connection lost: ${text}`,
      { server: this.address, cause: error },
    );
    // An open connection closed under us loses only what it had written.
    this.fail(failure, undefined, !connecting);
  }

  /** One reply frame, for the operation at the head of the FIFO. */
  onFrame(frame: ResponseDecoder): void {
    if (this.authenticating) return this.onAuthReply(frame);
    const op = this.head;
    if (op === null || op.seq > this.flushedSeq || frame.opaque < op.opaque || frame.opaque > op.lastOpaque || !expectedOpcode(op, frame)) {
      throw new MemcacheError(
        ErrorCode.PROTOCOL,
        op === null || op.seq > this.flushedSeq
          ? `unexpected ${opcodeName(frame.opcode)} reply with nothing in flight`
          : `reply ${opcodeName(frame.opcode)} #${frame.opaque} does not match ${opcodeName(op.opcode)} #${op.opaque}`,
      );
    }
    if (!applyReply(op, frame, this.address)) return;
    this.head = op.next;
    op.next = null;
    if (this.head === null) this.tail = null;
    this.queuedBytes -= op.bytes;
    if (--this.inFlight === 0) {
      if (this.closing) this.shutDown();
      else this.transport?.unref();
    }
  }

  // ---- internals ----

  /** Connected (and authenticated): the queued frames go out. */
  private opened(): void {
    this.state = OPEN;
    if (this.inFlight === 0) this.transport!.unref();
    this.flush();
  }

  private onAuthReply(frame: ResponseDecoder): void {
    if (frame.opcode !== Opcode.SaslAuth || frame.opaque !== 0) {
      throw new MemcacheError(ErrorCode.PROTOCOL, `${opcodeName(frame.opcode)} reply while authenticating`);
    }
    this.authenticating = false;
    if (frame.status === Status.Ok) return this.opened();
    // The username helps an operator; the password never appears anywhere.
    const user = JSON.stringify(this.options.sasl!.username);
    throw new MemcacheError(
      ErrorCode.AUTH,
      frame.status === Status.AuthError
        ? `SASL PLAIN authentication failed for user ${user}`
        : `SASL PLAIN authentication for user ${user} got ${describeStatus(frame.status)}`,
      { status: frame.status },
    );
  }

  private connect(): void {
    this.state = CONNECTING;
    // A reply announcing more than the largest value (plus room for key and extras) is corrupt:
    // refuse it rather than allocate what the header claims.
    this.decoder ??= new ResponseDecoder(this, this.options.maxValueSize + 64 * 1024);
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

  private flush(): void {
    this.flushScheduled = false;
    const writer = this.writer;
    if (this.state !== OPEN || this.blocked || writer === null || !writer.pending) return;
    this.lastFlushFrom = this.flushedSeq + 1;
    this.flushedSeq = this.queuedSeq;
    this.lastFlushAt = Date.now();
    const more = this.transport!.write(writer.drain());
    writer.drained();
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
    const head = this.head;
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
  private deadlineOf(op: Operation): number {
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
      const head = this.head;
      if (now >= this.connectDeadline || (head !== null && now >= head.deadline)) {
        const limit = Math.min(this.options.connectTimeout, this.options.timeout);
        const what = this.authenticating ? 'not authenticated' : 'not connected';
        this.fail(new MemcacheError(ErrorCode.CONNECT_TIMEOUT, `${what} within ${limit} ms`, { server: this.address }));
        return;
      }
      return this.rearm();
    }
    const head = this.head;
    if (head !== null && now >= this.deadlineOf(head)) {
      const timedOut = new MemcacheError(
        ErrorCode.TIMEOUT,
        `no reply within ${this.options.timeout} ms; connection closed`,
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
    const transport = this.transport;
    this.transport = null;
    transport?.close();
    this.decoder?.reset();
    this.authenticating = false;
    this.blocked = false;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const keep = closed && !this.closing;
    const flushed = keep ? this.flushedSeq : Infinity;
    const first = this.head;
    let op = first;
    let lost = 0;
    // Written reads to send again, in order, linked through `next`.
    let again: Operation | null = null;
    let againTail: Operation | null = null;
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
        if (!op.settled) lost++;
        op.fail(op === first ? error : others);
      }
      op = next;
    }
    // Without `keep` the loop took everything, and nothing waits in the writer for a next connection.
    if (!keep) this.writer?.discard();
    if (again !== null) this.resend(again, againTail!, op);
    else {
      this.head = op;
      if (op === null) this.tail = null;
    }
    this.state = this.closing ? CLOSED : IDLE;
    if (this.state === CLOSED) this.releaseCloseWaiters();
    else {
      this.options.observer?.onFailure(this, error, lost);
      if (this.head !== null && this.state === IDLE) this.connect();
    }
  }

  /** Puts written reads back at the front of the queue, encoded again ahead of the frames never written. */
  private resend(first: Operation, last: Operation, unwritten: Operation | null): void {
    const writer = this.writer!;
    const held = writer.drain().slice();
    writer.drained();
    for (let op: Operation | null = first; op !== null; op = op.next) encodeOperation(writer, op);
    writer.requeue(held);
    last.next = unwritten;
    if (unwritten === null) this.tail = last;
    this.head = first;
    // They count as not yet written again.
    this.flushedSeq = first.seq - 1;
  }

  private shutDown(): void {
    const transport = this.transport;
    this.transport = null;
    transport?.close();
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.state = CLOSED;
    this.releaseCloseWaiters();
  }

  private releaseCloseWaiters(): void {
    const waiters = this.closeWaiters;
    this.closeWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

function authFrame({ username, password }: SaslCredentials): Uint8Array {
  const writer = new RequestWriter();
  writer.sasl(Opcode.SaslAuth, 'PLAIN', new TextEncoder().encode(`\0${username}\0${password}`), 0);
  return writer.drain()[0]!.slice();
}

function expectedOpcode(op: Operation, frame: ResponseDecoder): boolean {
  if (op.kind !== Kind.GetMulti) return frame.opcode === op.opcode;
  return frame.opcode === (frame.opaque === op.lastOpaque ? Opcode.Noop : Opcode.GetKQ);
}

/** A decoder error gains the server's address. */
function withServer(error: MemcacheError, server: string): MemcacheError {
  if (error.server !== undefined) return error;
  return new MemcacheError(error.code, error.message, { server, status: error.status, cause: error.cause });
}

function formatAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
