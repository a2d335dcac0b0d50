/**
 * What an mg with N/R (Verb.Lease) answers when the reply carries W, X or Z:
 * the item and what the server said about who loads it. A plain hit resolves
 * to the Item alone, as a get does, so the hit path allocates nothing more.
 */
import type { Item } from '../../item.js';
import { LeaseFlag } from './reader.js';

export class LeaseReply {
  constructor(
    /** The stored item: a stale value, a value being refreshed, or the empty stub a miss created. */
    readonly item: Item,
    /** LeaseFlag bits. */
    readonly flags: number,
  ) {}

  /** W: this client loads the item. */
  get won(): boolean {
    return (this.flags & LeaseFlag.Won) !== 0;
  }

  /** X: the item was invalidated. */
  get stale(): boolean {
    return (this.flags & LeaseFlag.Stale) !== 0;
  }
}
