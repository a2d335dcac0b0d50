/**
 * One 'abort' listener per AbortSignal, however many operations watch it: a
 * request-scoped signal shared by many calls would otherwise pass the
 * runtime's listener limit (Node warns from the 11th). The commands
 * watching a signal form a doubly-linked list through two of their own
 * fields, so watching and unwatching are O(1) and allocate nothing; the
 * listener goes when the last command stops watching.
 */
import type { Command } from './command.js';

class SignalWatcher {
  head: Command | null = null;

  /** The signal fired: every command still watching it fails. */
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

/** Adds `op` to the operations watching `signal` (not yet fired). */
export function watchSignal(signal: AbortSignal, op: Command): void {
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

/** Removes `op` from the operations watching `signal`; the last one out removes the listener. */
export function unwatchSignal(signal: AbortSignal, op: Command): void {
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
