/**
 * A getOrSet call while its first read is in flight: a get (mg without N on
 * meta, so a hit costs the server what a get does) whose command carries
 * this as its outcome. A hit settles the caller's promise as a get's does;
 * anything else (a miss, a lease's W, X or Z) becomes the promise of what a
 * flight decides, made only then. So a hit costs a get plus this object of
 * three fields: no flight, no lookup of the key, no then().
 */
import type { Command, CommandOutcome } from '../command.js';
import { Item } from '../item.js';
import type { Leases } from './get-or-set.js';
import type { Factory } from './options.js';

export class FirstRead implements CommandOutcome {
  constructor(
    private readonly leases: Leases,
    private readonly factory: Factory<unknown>,
    /** The call's options, checked; read again in full only when it loads. */
    private readonly options: unknown,
  ) {}

  of(command: Command, value: unknown): unknown {
    if (value instanceof Item) return value;
    return this.leases.notHit(command.key, this.factory, this.options, value);
  }
}
