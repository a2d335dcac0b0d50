/**
 * One task per event-loop turn writes every connection of a Group that has
 * requests waiting, instead of one task per connection: with 8 servers a
 * turn costs one setImmediate, not 8. Where the runtime has setImmediate, the
 * task runs after the poll phase, so the replies read from every socket in
 * that phase leave as one write per socket. Elsewhere, once per microtask
 * checkpoint.
 *
 * One queue per Group, never one per process: a Worker's request may end
 * with a task still scheduled that then never runs, and only that request's
 * Group may be left waiting on it.
 */

/** What the queue flushes: a connection with encoded requests waiting. */
export interface Flushable {
  flush(): void;
}

const defer: (task: () => void) => void =
  typeof setImmediate === 'function' ? (task) => void setImmediate(task) : queueMicrotask;

export class FlushQueue {
  /** Operations in flight on the connections sharing this queue (1: a call is the only one). */
  inFlight = 0;
  // A plain array used as a batch, reset after each run: no allocation per turn once it has grown.
  private readonly waiting: Flushable[] = [];
  private scheduled = false;
  private readonly task = (): void => this.flushAll();

  /** Flushes `connection` in this turn's task; the caller queues each connection at most once per turn. */
  add(connection: Flushable): void {
    this.waiting.push(connection);
    if (!this.scheduled) {
      this.scheduled = true;
      defer(this.task);
    }
  }

  private flushAll(): void {
    this.scheduled = false;
    const waiting = this.waiting;
    // A connection queued while this runs (a write that failed and reconnected) is flushed in this same pass.
    for (let i = 0; i < waiting.length; i++) {
      const connection = waiting[i]!;
      waiting[i] = undefined as unknown as Flushable;
      connection.flush();
    }
    waiting.length = 0;
  }
}
