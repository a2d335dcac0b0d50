import { ErrorCode, MemcacheError } from '../errors.js';
import { Item } from '../item.js';
import type { ResponseDecoder } from './decoder.js';
import { Opcode, opcodeName } from './opcodes.js';
import { unwatchSignal, watchSignal } from './signal-watch.js';
import { Status, describeStatus } from './status.js';
import type { RequestWriter, Uint64 } from './writer.js';

/** How an operation is encoded and how its reply is read. */
export const Kind = {
  Get: 0,
  Store: 1,
  Concat: 2,
  Delete: 3,
  Counter: 4,
  Touch: 5,
  GetAndTouch: 6,
  GetMulti: 7,
  Stats: 8,
  Version: 9,
  Noop: 10,
  Flush: 11,
} as const;
export type Kind = (typeof Kind)[keyof typeof Kind];

/** Expiration that tells Increment/Decrement not to create a missing key. */
export const NO_CREATE = 0xffffffff;

/** What keeps count of the operations waiting on a server. */
export interface OperationHolder {
  release(op: Operation): void;
}

/**
 * One request and its settlement: the single object a call allocates besides
 * its promise. It is queued by the pool, written by the connection, and sits
 * in the connection's in-flight list (linked through `next`) until its reply
 * or a failure settles it.
 */
export class Operation {
  // ---- what to send ----
  key = '';
  keys: readonly string[] | null = null;
  value: Uint8Array | string | null = null;
  flags = 0;
  expires = 0;
  casHi = 0;
  casLo = 0;
  delta: Uint64 = 0;
  initial: Uint64 = 0;
  // ---- in flight ----
  /** Opaque of the first frame; a multi-get uses `opaque`..`lastOpaque`. */
  opaque = 0;
  lastOpaque = 0;
  deadline = 0;
  /** Position in its connection's send order: written once the connection has flushed past it. */
  seq = 0;
  /** Bytes the request occupies until it leaves its connection (the server's byte bound). */
  bytes = 0;
  /** Written once already and sent again after the server closed the connection without answering. */
  resent = false;
  /** Told once when the operation settles, however it settles (the pool's count of waiting operations). */
  holder: OperationHolder | null = null;
  next: Operation | null = null;
  /** Accumulated reply of multi-frame operations (getMulti, stats). */
  result: unknown = null;
  /** First error status met by a multi-frame operation, reported once it ends. */
  error: MemcacheError | null = null;
  settled = false;
  signal: AbortSignal | null = null;
  /** Neighbours among the operations watching the same signal (signal-watch.ts). */
  prevWatching: Operation | null = null;
  nextWatching: Operation | null = null;
  resolve: (value: any) => void = noop;
  reject: (error: Error) => void = noop;

  constructor(
    readonly kind: Kind,
    readonly opcode: number,
  ) {}

  /** Number of opaques (frames that may be answered) the operation uses. */
  get frames(): number {
    return this.keys === null ? 1 : this.keys.length + 1;
  }

  succeed(value: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.unwatch();
    this.release();
    this.resolve(value);
  }

  fail(error: Error): void {
    if (this.settled) return;
    this.settled = true;
    this.unwatch();
    this.release();
    this.reject(error);
  }

  private release(): void {
    const holder = this.holder;
    if (holder === null) return;
    this.holder = null;
    holder.release(this);
  }

  private unwatch(): void {
    const signal = this.signal;
    if (signal === null) return;
    this.signal = null;
    unwatchSignal(signal, this);
  }

  /** Fails the operation because its signal fired (called by the signal's one listener). */
  abort(): void {
    this.fail(abortedError(this.opcode, this.signal));
  }

  /** Watches `signal`; returns false (and fails the operation) when it has already fired. */
  watch(signal: AbortSignal | undefined): boolean {
    if (signal === undefined) return true;
    if (signal.aborted) {
      this.fail(abortedError(this.opcode, signal));
      return false;
    }
    this.signal = signal;
    watchSignal(signal, this);
    return true;
  }
}

let capturing: Operation | null = null;
function capture(resolve: (value: any) => void, reject: (error: Error) => void): void {
  capturing!.resolve = resolve;
  capturing!.reject = reject;
}

/** The operation's promise, made without a closure per call (the executor runs synchronously). */
export function promiseOf<T>(op: Operation): Promise<T> {
  capturing = op;
  const promise = new Promise<T>(capture);
  capturing = null;
  return promise;
}

/**
 * Whether a request written and left unanswered when the server closed the
 * connection may be sent again: reads (and touch, which only moves an
 * expiration) come out the same however often they run. Writes and counters
 * may have been applied; their outcome is unknown.
 */
export function isRepeatable(op: Operation): boolean {
  switch (op.kind) {
    case Kind.Get:
    case Kind.GetMulti:
    case Kind.GetAndTouch:
    case Kind.Touch:
    case Kind.Stats:
    case Kind.Version:
    case Kind.Noop:
      return true;
    default:
      return false;
  }
}

/** Writes the operation's frames. Throws (committing nothing) on a bad key or value. */
export function encodeOperation(writer: RequestWriter, op: Operation): void {
  switch (op.kind) {
    case Kind.Get:
    case Kind.Delete:
      return writer.keyOnly(op.opcode, op.key, op.opaque, op.casHi, op.casLo);
    case Kind.Store:
      return writer.store(op.opcode, op.key, op.value!, op.flags, op.expires, op.opaque, op.casHi, op.casLo);
    case Kind.Concat:
      return writer.concat(op.opcode, op.key, op.value!, op.opaque, op.casHi, op.casLo);
    case Kind.Counter:
      return writer.counter(op.opcode, op.key, op.delta, op.initial, op.expires, op.opaque);
    case Kind.Touch:
    case Kind.GetAndTouch:
      return writer.touch(op.opcode, op.key, op.expires, op.opaque);
    case Kind.GetMulti:
      return encodeMulti(writer, op);
    case Kind.Stats:
      return writer.stat(op.key === '' ? null : op.key, op.opaque);
    case Kind.Flush:
      return writer.flush(op.opcode, op.expires, op.opaque);
    default:
      return writer.empty(op.opcode, op.opaque);
  }
}

/** One GetKQ per key (opaque = first + index: a hit names its key by opaque), then a Noop barrier. */
function encodeMulti(writer: RequestWriter, op: Operation): void {
  const keys = op.keys!;
  // Validate every key before writing any frame, so a bad key sends nothing.
  writer.checkpoint();
  try {
    for (let i = 0; i < keys.length; i++) writer.keyOnly(Opcode.GetKQ, keys[i]!, op.opaque + i);
  } catch (error) {
    writer.rollback();
    throw error;
  }
  writer.empty(Opcode.Noop, op.lastOpaque);
}

/**
 * Applies one reply frame to the operation at the head of the in-flight list.
 * Returns true when the operation has received its last frame.
 */
export function applyReply(op: Operation, frame: ResponseDecoder, server: string): boolean {
  const status = frame.status;
  switch (op.kind) {
    case Kind.Get:
    case Kind.GetAndTouch:
      if (status === Status.Ok) op.succeed(new Item(frame.value(), frame.flags, frame.casHi, frame.casLo));
      else if (status === Status.KeyNotFound) op.succeed(null);
      else op.fail(statusError(op, frame, server));
      return true;
    case Kind.Store:
    case Kind.Concat:
    case Kind.Delete:
    case Kind.Touch:
      if (status === Status.Ok) op.succeed(true);
      else if (isConditionFailure(status)) op.succeed(false);
      else op.fail(statusError(op, frame, server));
      return true;
    case Kind.Counter:
      if (status === Status.Ok) {
        // A short body would make counter() read the next frame's bytes: the stream is corrupt.
        if (frame.valueLength !== 8) {
          throw new MemcacheError(ErrorCode.PROTOCOL, `counter reply of ${frame.valueLength} bytes (expected 8)`, { server });
        }
        op.succeed(frame.counter());
      }
      else if (status === Status.KeyNotFound) op.succeed(null);
      else op.fail(statusError(op, frame, server));
      return true;
    case Kind.GetMulti:
      return applyMulti(op, frame, server);
    case Kind.Stats:
      if (status !== Status.Ok) {
        op.fail(statusError(op, frame, server));
        return true;
      }
      if (frame.keyLength === 0) {
        op.succeed(op.result);
        return true;
      }
      (op.result as Record<string, string>)[frame.keyText()] = frame.valueText();
      return false;
    case Kind.Version:
      if (status === Status.Ok) op.succeed(frame.valueText());
      else op.fail(statusError(op, frame, server));
      return true;
    default:
      if (status === Status.Ok) op.succeed(undefined);
      else op.fail(statusError(op, frame, server));
      return true;
  }
}

function applyMulti(op: Operation, frame: ResponseDecoder, server: string): boolean {
  if (frame.opaque === op.lastOpaque) {
    if (op.error !== null) op.fail(op.error);
    else op.succeed(op.result);
    return true;
  }
  const key = op.keys![frame.opaque - op.opaque]!;
  if (frame.status === Status.Ok) {
    (op.result as Map<string, Item>).set(key, new Item(frame.value(), frame.flags, frame.casHi, frame.casLo));
  } else if (frame.status !== Status.KeyNotFound && op.error === null) {
    op.error = statusError(op, frame, server);
  }
  return false;
}

/** Statuses that mean "the condition did not hold": a boolean false, not an error. */
function isConditionFailure(status: number): boolean {
  return status === Status.KeyNotFound || status === Status.KeyExists || status === Status.ItemNotStored;
}

function statusError(op: Operation, frame: ResponseDecoder, server: string): MemcacheError {
  const status = frame.status;
  const code =
    status === Status.ValueTooLarge
      ? ErrorCode.VALUE_TOO_LARGE
      : status === Status.NonNumeric
        ? ErrorCode.NOT_NUMERIC
        : status === Status.AuthError
          ? ErrorCode.AUTH
          : ErrorCode.SERVER;
  return new MemcacheError(code, `${opcodeName(frame.opcode)} failed: ${describeStatus(status)}`, {
    server,
    status,
  });
}

function abortedError(opcode: number, signal: AbortSignal | null): MemcacheError {
  return new MemcacheError(ErrorCode.ABORTED, `${opcodeName(opcode)} aborted by its signal`, { cause: signal?.reason });
}

function noop(): void {}
