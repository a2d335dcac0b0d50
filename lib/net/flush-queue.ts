/**
 * One task per event-loop turn writes every connection that has requests
 * waiting, instead of one task per connection: with 8 servers a turn costs
 * one setImmediate, not 8. Where the runtime has setImmediate, the task runs
 * after the poll phase, so the replies read from every socket in that phase
 * leave as one write per socket. Elsewhere, once per microtask checkpoint.
 */

/** What the queue flushes: a connection with encoded requests waiting. */
export interface Flushable {
  flush(): void;
}

const defer: (task: () => void) => void =
  typeof setImmediate === 'function' ? (task) => void setImmediate(task) : queueMicrotask;

// A plain array used as a batch, reset after each run: no allocation per turn once it has grown.
const waiting: Flushable[] = [];
let scheduled = false;

function flushAll(): void {
  scheduled = false;
  // A connection queued while this runs (a write that failed and reconnected) is flushed in this same pass.
  for (let i = 0; i < waiting.length; i++) {
    const connection = waiting[i]!;
    waiting[i] = undefined as unknown as Flushable;
    connection.flush();
  }
  waiting.length = 0;
}

/** Flushes `connection` in this turn's task; the caller queues each connection at most once per turn. */
export function queueFlush(connection: Flushable): void {
  waiting.push(connection);
  if (!scheduled) {
    scheduled = true;
    defer(flushAll);
  }
}
