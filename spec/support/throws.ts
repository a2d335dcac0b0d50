import assert from 'node:assert/strict';
import { MemcacheError, type ErrorCode } from '../../lib/errors.js';

/** Runs `fn`, which must throw a MemcacheError with `code`; returns it. */
export function throwsCode(fn: () => unknown, code: ErrorCode): MemcacheError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof MemcacheError, `expected a MemcacheError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  return caught;
}
