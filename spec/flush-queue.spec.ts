// The write task a Group's connections share: one task per turn flushes
// every connection queued in it. (That each Group has its own, so a task that
// never runs when a Worker's request ends first stalls only that Group, is
// checked by test:runtimes: workerd runs a workload after such a request.)
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FlushQueue } from '../lib/net/flush-queue.js';

const afterTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('FlushQueue', () => {
  it('flushes every connection queued in a turn once, in one task, in order', async () => {
    const queue = new FlushQueue();
    const flushed: string[] = [];
    for (const name of ['a', 'b', 'c']) queue.add({ flush: () => void flushed.push(name) });
    assert.deepEqual(flushed, [], 'nothing is written within the call');
    await afterTurn();
    assert.deepEqual(flushed, ['a', 'b', 'c']);
  });

  it('flushes a connection queued while the task runs in the same pass, and schedules again afterwards', async () => {
    const queue = new FlushQueue();
    const flushed: string[] = [];
    queue.add({ flush: () => (flushed.push('first'), queue.add({ flush: () => void flushed.push('during') })) });
    await afterTurn();
    assert.deepEqual(flushed, ['first', 'during']);
    queue.add({ flush: () => void flushed.push('next turn') });
    await afterTurn();
    assert.deepEqual(flushed, ['first', 'during', 'next turn']);
  });
});
