/**
 * One 'abort' listener per AbortSignal, however many operations watch it: a
 * request-scoped signal shared by many calls would otherwise pass the
 * runtime's listener limit (Node warns from the 11th). What watches a signal
 * (a command, a call waiting for the first cluster) is linked in a doubly-
 * linked list through two of its own fields, so watching and unwatching are
 * O(1) and allocate nothing; the listener goes when the last one stops.
 */

/** What may watch a signal: told through abort(), which must stop it watching (unwatchSignal). */
export interface SignalWatching {
  prevWatching: SignalWatching | null;
  nextWatching: SignalWatching | null;
  abort(): void;
}

class SignalWatcher {
  head: SignalWatching | null = null;

  /** The signal fired: everything still watching it is told. */
  handleEvent(): void {
    let op = this.head;
    while (op !== null) {
      // abort() unlinks op: take its neighbour first.
      const next = op.nextWatching;
      op.abort();
      op = next;
    }
  }
}

const watchers = new WeakMap<AbortSignal, SignalWatcher>();

/** Adds `op` to what watches `signal` (not yet fired). */
export function watchSignal(signal: AbortSignal, op: SignalWatching): void {
  let watcher = watchers.get(signal);
  if (watcher === undefined) {
    watcher = new SignalWatcher();
    watchers.set(signal, watcher);
    signal.addEventListener('abort', watcher);
  }
  const head = watcher.head;
  op.prevWatching = null;
  op.nextWatching = head;
  if (head !== null) head.prevWatching = op;
  watcher.head = op;
}

/** Removes `op` from what watches `signal`; the last one out removes the listener. */
export function unwatchSignal(signal: AbortSignal, op: SignalWatching): void {
  const watcher = watchers.get(signal);
  if (watcher === undefined) return;
  const prev = op.prevWatching;
  const next = op.nextWatching;
  if (prev !== null) prev.nextWatching = next;
  else if (watcher.head === op) watcher.head = next;
  if (next !== null) next.prevWatching = prev;
  op.prevWatching = null;
  op.nextWatching = null;
  if (watcher.head === null) {
    signal.removeEventListener('abort', watcher);
    watchers.delete(signal);
  }
}
