/**
 * Rejections that say where the call was made. A failure found by a timer or
 * a socket callback carries only those frames. V8 adds the chain of awaits
 * ("at async handler (app.js:12)") to a stack captured inside a promise
 * reaction whose promise an async function awaits. So a failed call's promise
 * is resolved with a promise that a reaction rejects, and that reaction
 * captures the stack again, on a per-call copy (one error object may be
 * shared by every call a failure took down). A call that succeeds pays
 * nothing: all of this runs only when it fails.
 */
import { MemcacheError } from './errors.js';

/**
 * A promise that rejects with a copy of `error` whose stack is that of the
 * callers awaiting the promise it is used to resolve.
 */
export function rejectionForCaller(error: Error): Promise<never> {
  let reject!: (reason: unknown) => void;
  const source = new Promise<never>((_, rejectSource) => {
    reject = rejectSource;
  });
  const told = source.then(undefined, rethrowWithCallerStack);
  // One microtask later: by then the caller's promise, resolved with `told`, follows it, and V8 finds the callers from it.
  queueMicrotask(() => reject(error));
  return told;
}

/** For a reaction on the caller's own promise: rethrows a copy of `error` with the awaiting callers' stack. */
export function rethrowWithCallerStack(error: unknown): never {
  if (!(error instanceof MemcacheError)) throw error;
  const copy = Object.create(Object.getPrototypeOf(error) as object) as MemcacheError;
  // Own fields only (code, status, server, message, cause): the copy is the same failure, told again.
  for (const name of Object.getOwnPropertyNames(error)) {
    if (name !== 'stack') Object.defineProperty(copy, name, Object.getOwnPropertyDescriptor(error, name)!);
  }
  if (typeof Error.captureStackTrace === 'function') Error.captureStackTrace(copy, rethrowWithCallerStack);
  else if (error.stack !== undefined) copy.stack = error.stack;
  throw copy;
}
