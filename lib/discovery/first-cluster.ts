/**
 * Where calls made before the first cluster configuration wait: `new
 * Group(...)` then `get` at once must work. Each waits at most `timeout` ms
 * (then MC_ERR_NO_SERVERS, with the endpoint's last failure as cause), at
 * most `maxWaiting` of them (then MC_ERR_QUEUE_FULL). One timer for all,
 * armed for the oldest, and it keeps the process alive: a caller is waiting.
 * Only until the first cluster: nothing here is on the path of later calls.
 */

import { ErrorCode, MemcacheError } from '../errors.js';
import { unwatchSignal, watchSignal, type SignalWatching } from '../signal-watch.js';

/** A call waiting; it watches its signal through the one listener per signal (signal-watch.ts). */
class Waiter implements SignalWatching {
  done = false;
  prevWatching: SignalWatching | null = null;
  nextWatching: SignalWatching | null = null;

  constructor(
    private readonly cluster: FirstCluster,
    readonly deadline: number,
    readonly resolve: () => void,
    readonly reject: (error: Error) => void,
    readonly signal: AbortSignal | undefined,
  ) {}

  abort(): void {
    this.cluster.abort(this);
  }
}

export class FirstCluster {
  private waiters: Waiter[] = [];
  private head = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private state: 'waiting' | 'known' | 'closed' = 'waiting';
  /** The endpoint's latest failure, given as the cause of a timeout. */
  lastError: MemcacheError | null = null;

  constructor(
    private readonly timeout: number,
    private readonly maxWaiting: number,
    private readonly endpoint: string,
  ) {}

  get known(): boolean {
    return this.state === 'known';
  }

  /** Resolves once the first cluster is known (at once if it is). */
  wait(signal?: AbortSignal | null): Promise<void> {
    if (this.state === 'known') return Promise.resolve();
    if (this.state === 'closed') return Promise.reject(new MemcacheError(ErrorCode.CLIENT_CLOSED, 'group is closed'));
    if (this.waiters.length - this.head >= this.maxWaiting) {
      return Promise.reject(
        new MemcacheError(ErrorCode.QUEUE_FULL, `${this.maxWaiting} calls already wait for the first cluster configuration (maxQueueSize)`, {
          server: this.endpoint,
        }),
      );
    }
    if (signal?.aborted === true) return Promise.reject(aborted(signal));
    return new Promise<void>((resolve, reject) => {
      const waiter = new Waiter(this, Date.now() + this.timeout, resolve, reject, signal ?? undefined);
      if (waiter.signal !== undefined) watchSignal(waiter.signal, waiter);
      this.waiters.push(waiter);
      if (this.timer === null) this.arm();
    });
  }

  /** The first cluster is known: every waiter goes on, in call order. */
  open(): void {
    if (this.state !== 'waiting') return;
    this.state = 'known';
    this.drain(null);
  }

  /** The group closed: every waiter rejects with MC_ERR_CLIENT_CLOSED. */
  close(): void {
    if (this.state === 'closed') return;
    const wasWaiting = this.state === 'waiting';
    this.state = 'closed';
    if (wasWaiting) this.drain(new MemcacheError(ErrorCode.CLIENT_CLOSED, 'group is closed'));
  }

  private drain(error: MemcacheError | null): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const waiters = this.waiters;
    this.waiters = [];
    for (let i = this.head; i < waiters.length; i++) this.settle(waiters[i]!, error);
    this.head = 0;
  }

  private settle(waiter: Waiter, error: Error | null): void {
    if (waiter.done) return;
    waiter.done = true;
    if (waiter.signal !== undefined) unwatchSignal(waiter.signal, waiter);
    if (error === null) waiter.resolve();
    else waiter.reject(error);
  }

  /** @internal A waiter's signal fired. */
  abort(waiter: Waiter): void {
    this.settle(waiter, aborted(waiter.signal!));
    // The timer was for this waiter: the next one's deadline, or none (an aborted call keeps nothing alive).
    if (this.timer !== null && this.waiters[this.head] === waiter) {
      clearTimeout(this.timer);
      this.timer = null;
      this.arm();
    }
  }

  private arm(): void {
    while (this.head < this.waiters.length && this.waiters[this.head]!.done) this.head++;
    if (this.head === this.waiters.length) {
      this.waiters = [];
      this.head = 0;
      return;
    }
    const delay = Math.max(0, this.waiters[this.head]!.deadline - Date.now());
    this.timer = setTimeout(() => this.expire(), delay);
  }

  private expire(): void {
    this.timer = null;
    const now = Date.now();
    while (this.head < this.waiters.length) {
      const waiter = this.waiters[this.head]!;
      if (!waiter.done && waiter.deadline > now) break;
      this.head++;
      const cause = this.lastError ?? undefined;
      const why = cause === undefined ? 'no answer yet' : `last failure: ${cause.message}`;
      this.settle(
        waiter,
        new MemcacheError(ErrorCode.NO_SERVERS, `no cluster configuration from the configuration endpoint within ${this.timeout} ms (${why})`, {
          server: this.endpoint,
          cause,
        }),
      );
    }
    this.arm();
  }
}

function aborted(signal: AbortSignal): MemcacheError {
  return new MemcacheError(ErrorCode.ABORTED, 'aborted while waiting for the first cluster configuration', { cause: signal.reason });
}
