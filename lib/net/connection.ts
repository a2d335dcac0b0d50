import { ErrorCode, MemcacheError } from '../errors.js';
import { ResponseDecoder, type FrameHandler } from '../protocol/decoder.js';
import { Opcode, opcodeName } from '../protocol/opcodes.js';
import { Kind, type Operation, applyReply, encodeOperation } from '../protocol/operation.js';
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
  /** Told when the connection opens and when it fails (the pool's failover hooks). */
  observer?: ConnectionObserver | undefined;
}

export interface SaslCredentials {
  username: string;
  password: string;
}

export interface ConnectionObserver {
  onOpen(connection: Connection): void;
  /**
   * The connection failed and is closed. `idle` is true when nothing was in
   * flight and it was not connecting (say, the server closed an idle socket):
   * no caller saw the failure, and the next operation simply reconnects.
   */
  onFailure(connection: Connection, error: MemcacheError, idle: boolean): void;
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

const IDLE = 0;
const CONNECTING = 1;
const OPEN = 2;
const CLOSED = 3;

/**
 * One pipelined connection to one server.
 *
 * Operations are encoded as they arrive and written once per tick (see defer);
 * any number may be in flight. Replies come back in order, so the in-flight
 * operations form a FIFO (linked through `Operation.next`) and each reply must
 * carry the head's opaque: anything else means the stream is out of step, and
 * the connection is dropped. One timer watches the oldest operation's
 * deadline. When anything goes wrong (timeout, socket error, server close,
 * corrupt bytes) every operation in flight is rejected at once and the socket
 * is destroyed, so a late reply can never reach anyone. The next operation
 * connects again.
 */
export class Connection implements TransportEvents, FrameHandler {
  /** host:port, for messages. */
  readonly address: string;
  /** Operations sent and not yet answered (aborted ones included until their reply). */
  inFlight = 0;

  private state = IDLE;
  private closing = false;
  /** Socket open, SASL reply awaited: still connecting as far as callers and timers go. */
  private authenticating = false;
  /** The SASL PLAIN request, built once: it goes out ahead of every queued frame. */
  private readonly authFrame: Uint8Array | null = null;
  private transport: Transport | null = null;
  private readonly writer: RequestWriter;
  private readonly decoder: ResponseDecoder;
  private head: Operation | null = null;
  private tail: Operation | null = null;
  private nextOpaque = 1;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private connectDeadline = 0;
  private flushScheduled = false;
  private batchDeadline = 0;
  private readonly flushTask = (): void => this.flush();
  private readonly timerTask = (): void => this.onTimer();
  private closeWaiters: (() => void)[] = [];

  constructor(private readonly options: ConnectionOptions) {
    this.address = formatAddress(options.host, options.port);
    this.writer = new RequestWriter(options.maxValueSize);
    if (options.sasl !== undefined) {
      const { username, password } = options.sasl;
      const auth = new RequestWriter();
      auth.sasl(Opcode.SaslAuth, 'PLAIN', new TextEncoder().encode(`\0${username}\0${password}`), 0);
      this.authFrame = auth.drain()[0]!.slice();
    }
    // A reply announcing more than the largest value (plus room for key and extras) is corrupt:
    // refuse it rather than allocate what the header claims.
    this.decoder = new ResponseDecoder(this, options.maxValueSize + 64 * 1024);
  }

  /** Encodes and queues an operation; it settles through its own resolve/reject. */
  send(op: Operation): void {
    if (this.closing || this.state === CLOSED) {
      op.fail(new MemcacheError(ErrorCode.CLIENT_CLOSED, 'connection is closed', { server: this.address }));
      return;
    }
    const frames = op.frames;
    if (this.nextOpaque + frames > 0xffffffff) this.nextOpaque = 1;
    op.opaque = this.nextOpaque;
    op.lastOpaque = op.opaque + frames - 1;
    try {
      encodeOperation(this.writer, op);
    } catch (error) {
      // Bad input: nothing was committed to the writer, so nothing is sent.
      op.fail(error as Error);
      return;
    }
    this.nextOpaque += frames;
    // One clock read per batch: operations written in the same tick share a deadline.
    if (!this.flushScheduled) this.batchDeadline = Date.now() + this.options.timeout;
    op.deadline = this.batchDeadline;
    if (this.tail === null) this.head = op;
    else this.tail.next = op;
    this.tail = op;
    if (this.inFlight++ === 0 && this.transport !== null) this.transport.ref();
    if (this.timer === null) this.arm(this.options.timeout);
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
    if (this.authFrame !== null) {
      // memcached -S answers anything sent before authentication with an error and a close.
      this.authenticating = true;
      this.transport!.write([this.authFrame]);
      return;
    }
    this.opened();
  }

  onData(chunk: Uint8Array): void {
    try {
      this.decoder.push(chunk);
    } catch (error) {
      this.fail(
        error instanceof MemcacheError
          ? withServer(error, this.address)
          : new MemcacheError(ErrorCode.PROTOCOL, 'could not decode reply', { server: this.address, cause: error }),
      );
    }
  }

  onClose(error: Error | undefined): void {
    this.transport = null;
    // A transport's own typed error (a TLS verification failure) is kept as it is.
    if (error instanceof MemcacheError) return this.fail(withServer(error, this.address));
    const connecting = this.state === CONNECTING;
    const text = error === undefined ? 'server closed the connection' : error.message;
    this.fail(
      new MemcacheError(
        connecting ? ErrorCode.CONNECT : ErrorCode.CONN_CLOSED,
        connecting ? `could not connect: ${text}` : `connection lost: ${text}`,
        { server: this.address, cause: error },
      ),
    );
  }

  /** One reply frame, for the operation at the head of the FIFO. */
  onFrame(frame: ResponseDecoder): void {
    if (this.authenticating) return this.onAuthReply(frame);
    const op = this.head;
    if (op === null || frame.opaque < op.opaque || frame.opaque > op.lastOpaque || !expectedOpcode(op, frame)) {
      throw new MemcacheError(
        ErrorCode.PROTOCOL,
        op === null
          ? `unexpected ${opcodeName(frame.opcode)} reply with nothing in flight`
          : `reply ${opcodeName(frame.opcode)} #${frame.opaque} does not match ${opcodeName(op.opcode)} #${op.opaque}`,
      );
    }
    if (!applyReply(op, frame, this.address)) return;
    this.head = op.next;
    op.next = null;
    if (this.head === null) this.tail = null;
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
    this.options.observer?.onOpen(this);
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
    if (this.state !== OPEN || !this.writer.pending) return;
    this.transport!.write(this.writer.drain());
    this.writer.drained();
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
    const now = Date.now();
    let deadline = this.head === null ? Infinity : this.head.deadline;
    if (this.state === CONNECTING && this.connectDeadline < deadline) deadline = this.connectDeadline;
    if (deadline !== Infinity) this.arm(Math.max(0, deadline - now));
  }

  private onTimer(): void {
    this.timer = null;
    const head = this.head;
    const now = Date.now();
    if (this.state === CONNECTING) {
      if (now >= this.connectDeadline || (head !== null && now >= head.deadline)) {
        const limit = Math.min(this.options.connectTimeout, this.options.timeout);
        const what = this.authenticating ? 'not authenticated' : 'not connected';
        this.fail(new MemcacheError(ErrorCode.CONNECT_TIMEOUT, `${what} within ${limit} ms`, { server: this.address }));
        return;
      }
      this.rearm();
      return;
    }
    if (head === null) return;
    if (now >= head.deadline) {
      this.fail(
        new MemcacheError(
          ErrorCode.TIMEOUT,
          `no reply within ${this.options.timeout} ms; connection closed`,
          { server: this.address },
        ),
      );
      return;
    }
    this.arm(head.deadline - now);
  }

  /** Drops the socket and rejects everything in flight. */
  private fail(error: MemcacheError): void {
    const idle = this.state !== CONNECTING && this.inFlight === 0;
    const transport = this.transport;
    this.transport = null;
    transport?.close();
    this.decoder.reset();
    this.writer.discard();
    this.authenticating = false;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    let op = this.head;
    this.head = null;
    this.tail = null;
    this.inFlight = 0;
    this.state = this.closing ? CLOSED : IDLE;
    while (op !== null) {
      const next = op.next;
      op.next = null;
      op.fail(error);
      op = next;
    }
    if (this.state === CLOSED) this.releaseCloseWaiters();
    else this.options.observer?.onFailure(this, error, idle);
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
