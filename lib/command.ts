import { ErrorCode, MemcacheError } from './errors.js';
import { checkKey } from './key.js';
import { checkValue } from './validate.js';
import { unwatchSignal, watchSignal, type SignalWatching } from './signal-watch.js';
import { rejectionForCaller } from './caller-stack.js';

/** What a command asks of the server, whatever the wire format. */
export const Verb = {
  Get: 0,
  /** Get and set a new expiration. */
  GetAndTouch: 1,
  Touch: 2,
  GetMulti: 3,
  Set: 4,
  Add: 5,
  Replace: 6,
  Append: 7,
  Prepend: 8,
  Delete: 9,
  Increment: 10,
  Decrement: 11,
  Flush: 12,
  Version: 13,
  Stats: 14,
  /** A round trip that changes nothing: the pool's probe, a barrier. */
  Noop: 15,
  /**
   * getOrSet's read (meta only: mg with N and R): a get that may win the
   * right to load a missing or stale item. `expires` is the TTL of the stub a
   * miss creates (lockFor; 0: no N, a miss creates nothing), `recache` the R
   * threshold (0: none).
   */
  Lease: 16,
  /**
   * getOrSet's store after a won lease (meta only): over the lease's item
   * only (ms C<cas>), or only where nothing is (mode E) when casHi/casLo are
   * 0; on success the codec writes the new item's CAS into casHi/casLo.
   */
  LeaseStore: 17,
  /** Marks an item stale instead of deleting it (meta only: md I, T from `expires` when not 0, C when given). */
  Invalidate: 18,
} as const;
export type Verb = (typeof Verb)[keyof typeof Verb];

const verbNames = ['get', 'gat', 'touch', 'getMulti', 'set', 'add', 'replace', 'append', 'prepend', 'delete', 'incr', 'decr', 'flush', 'version', 'stats', 'noop', 'getOrSet', 'getOrSet', 'invalidate'];

/** The method's name for a verb ("get", "incr"...), for messages. */
export function verbName(verb: Verb): string {
  return verbNames[verb] ?? `verb ${verb}`;
}

/** Counter operands as they are accepted: a safe non-negative integer or a bigint below 2^64. */
export type Uint64 = number | bigint;

/** What a traced call is told when its command settles (diagnostics/command-context.ts). */
export interface CommandTrace {
  succeeded(value: unknown): void;
  failed(error: Error): void;
}

/**
 * Turns what a command succeeded with into what its caller gets: a
 * getOrSet's first read passes a hit through, and makes anything else the
 * promise of what its load decides (lease/first-read.ts).
 */
export interface CommandOutcome {
  of(command: Command, value: unknown): unknown;
}

/** What keeps count of the commands waiting on a server. */
export interface CommandHolder {
  release(command: Command): void;
}

/**
 * One request and its settlement, in no wire format: the single object a
 * call allocates besides its promise. It is queued by the pool, encoded by
 * the connection's codec, and sits in the connection's FIFO (linked through
 * `next`) until its reply or a failure settles it.
 */
export class Command implements SignalWatching {
  // ---- what to do ----
  key = '';
  /** getMulti: the keys for one server, a snapshot taken at the call. */
  keys: readonly string[] | null = null;
  value: Uint8Array | string | null = null;
  flags = 0;
  /** Seconds to live (or an absolute Unix time); for a counter, the expiration of a created key. */
  expires = 0;
  /** A CAS condition (0/0 for none), as two unsigned 32-bit halves. */
  casHi = 0;
  casLo = 0;
  delta: Uint64 = 0;
  /** incr/decr: create a missing key holding `initial` (with `expires`) instead of missing. */
  create = false;
  initial: Uint64 = 0;
  /** Lease: win the recache when fewer seconds than this are left to live (mg R); 0 for none. */
  recache = 0;
  // ---- in flight ----
  /** The codec's tags for this command's requests (binary opaques, meta O tokens): `tag`..`lastTag`. */
  tag = 0;
  lastTag = 0;
  deadline = 0;
  /** Position in its connection's send order: written once the connection has flushed past it. */
  seq = 0;
  /** Bytes the request occupies until it leaves its connection (the server's byte bound). */
  bytes = 0;
  /** Written once already and sent again after the server closed the connection without answering. */
  resent = false;
  /** Told once when the command settles, however it settles (the pool's count of waiting commands). */
  holder: CommandHolder | null = null;
  next: Command | null = null;
  /** Accumulated reply of multi-part commands (getMulti: the shared Map; stats: the record). */
  result: unknown = null;
  /** First error met by a multi-part command, reported once it ends. */
  error: MemcacheError | null = null;
  settled = false;
  signal: AbortSignal | null = null;
  /** Neighbours among the commands watching the same signal (signal-watch.ts). */
  prevWatching: SignalWatching | null = null;
  nextWatching: SignalWatching | null = null;
  resolve: (value: any) => void = noop;
  reject: (error: Error) => void = noop;
  /** A failure is told with the stack of the caller awaiting it (caller-stack.ts). */
  callerStack = false;
  /** Set only while someone subscribes to `memring:command`: told of the settlement. */
  trace: CommandTrace | null = null;
  /** Decides what the command's success means before its caller is told (a getOrSet's first read). */
  outcome: CommandOutcome | null = null;

  constructor(readonly verb: Verb) {}

  succeed(value: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.unwatch();
    this.release();
    if (this.outcome !== null) value = this.outcome.of(this, value);
    if (this.trace !== null) this.trace.succeeded(value);
    this.resolve(value);
  }

  fail(error: Error): void {
    if (this.settled) return;
    this.settled = true;
    this.unwatch();
    this.release();
    if (this.trace !== null) this.trace.failed(error);
    if (this.callerStack) this.resolve(rejectionForCaller(error));
    else this.reject(error);
  }

  /** Watches `signal`; returns false (and fails the command) when it has already fired. */
  watch(signal: AbortSignal | undefined): boolean {
    if (signal === undefined) return true;
    if (signal.aborted) {
      this.fail(abortedError(this.verb, signal));
      return false;
    }
    this.signal = signal;
    watchSignal(signal, this);
    return true;
  }

  /** Fails the command because its signal fired (called by the signal's one listener). */
  abort(): void {
    this.fail(abortedError(this.verb, this.signal));
  }

  private unwatch(): void {
    const signal = this.signal;
    if (signal === null) return;
    this.signal = null;
    unwatchSignal(signal, this);
  }

  private release(): void {
    const holder = this.holder;
    if (holder === null) return;
    this.holder = null;
    holder.release(this);
  }
}

/**
 * Whether a request written and left unanswered when the server closed the
 * connection may be sent again: reads (and touch, which only moves an
 * expiration) come out the same however often they run. Writes and counters
 * may have been applied; their outcome is unknown.
 */
export function isRepeatable(command: Command): boolean {
  switch (command.verb) {
    case Verb.Get:
    case Verb.GetMulti:
    case Verb.GetAndTouch:
    case Verb.Touch:
    case Verb.Stats:
    case Verb.Version:
    case Verb.Noop:
      return true;
    default:
      return false;
  }
}

/**
 * What is wrong with a command's key or value, or null: for the paths that
 * fail a command without encoding it (a closed group, a fired signal, a
 * server down or full), so bad input still gets its own code. A command
 * that is encoded is checked by its codec as it writes.
 */
export function commandError(command: Command, maxValueSize: number): MemcacheError | null {
  const verb = command.verb;
  if (verb === Verb.GetMulti || (verb >= Verb.Flush && verb <= Verb.Noop)) return null;
  try {
    checkKey(command.key);
    if ((verb >= Verb.Set && verb <= Verb.Prepend) || verb === Verb.LeaseStore) checkValue(command.value, maxValueSize);
  } catch (error) {
    return error as MemcacheError;
  }
  return null;
}

let capturing: Command | null = null;
function capture(resolve: (value: any) => void, reject: (error: Error) => void): void {
  capturing!.resolve = resolve;
  capturing!.reject = reject;
}

/** The command's promise, made without a closure per call (the executor runs synchronously). */
export function promiseOf<T>(command: Command): Promise<T> {
  capturing = command;
  const promise = new Promise<T>(capture);
  capturing = null;
  return promise;
}

function abortedError(verb: Verb, signal: AbortSignal | null): MemcacheError {
  return new MemcacheError(ErrorCode.ABORTED, `${verbName(verb)} aborted by its signal`, { cause: signal?.reason });
}

function noop(): void {}
