/**
 * A getOrSet flight on a meta group: memcached's leases decide who loads,
 * across every client of the servers (mg N/R and its W, X and Z flags; the
 * winner's ms C<cas>; md to release a win).
 */
import { Command, Verb } from '../command.js';
import { ErrorCode, MemcacheError } from '../errors.js';
import { Item } from '../item.js';
import { LeaseReply } from '../protocol/meta/lease-reply.js';
import type { Encoded } from '../transcode/transcoder.js';
import { Flight, loaded, setCas } from './flight.js';

/** First and last pause between a waiting caller's polls, in ms. */
const FIRST_POLL = 5;
const LAST_POLL = 50;

/**
 * A getOrSet call on a meta group. Its first request is `mg <key> v f c
 * [R<staleFor>]`, without N: a hit costs the server what a get does (N makes
 * memcached 1.6.18 take a few percent longer per hit), and a stale item
 * still gives its win (W) to one reader. A miss asks again with N<lockFor>,
 * which makes the stub exactly one client wins; the others see Z and wait,
 * or get a stale value at once. The winner stores with ms C<the stub's CAS>.
 */
export class LeaseFlight extends Flight {
  /** `mg <key> v f c N<lockFor> [R<staleFor>]`: a miss creates the stub to win. */
  private leaseCommand(): Command {
    const op = new Command(Verb.Lease);
    op.key = this.key;
    op.expires = this.settings.lockFor;
    op.recache = this.settings.staleFor;
    return op;
  }

  /** What the first read (no N) means when it was not a plain hit: load, wait, or a value served meanwhile. */
  decide(reply: unknown): Item | Promise<Item> {
    const lease = reply as LeaseReply | null;
    if (lease === null) {
      // A miss: one flight per key here asks again with N, for a stub only one client wins.
      const listed = this.leases.claim(this, false);
      return listed === this ? this.vivify() : listed.join();
    }
    return this.leased(lease) ?? this.waitHere();
  }

  /**
   * What a lease reply means whatever asked it, or null when another client
   * holds the win over an empty stub: the value (a hit, or a stale or
   * expiring one served meanwhile), or this client's load when it won (or the
   * server could not make the stub, EN after N: then it stores only where
   * nothing is).
   */
  private leased(reply: unknown): Item | Promise<Item> | null {
    if (reply instanceof Item) return this.land(reply);
    const lease = reply as LeaseReply | null;
    if (lease === null || lease.won) {
      // The winner is the key's flight here, whoever was listed: it is the one that stores.
      this.leases.claim(this, true);
      return this.load(lease);
    }
    // (Landed: a flight listed since a miss answers its joiners with it.)
    if (lease.item.value.length > 0) return this.land(lease.item);
    return null;
  }

  /** Another client loads: join a load in this process whose lease crossed this one, or be the one here that waits. */
  private waitHere(): Promise<Item> {
    const listed = this.leases.claim(this, false);
    return listed === this ? this.waitForLoad() : listed.join();
  }

  /** After a miss: `mg ... N<lockFor>`, and what its reply means. */
  private async vivify(): Promise<Item> {
    let reply: unknown;
    try {
      reply = await this.leases.sendCommand(this.leaseCommand());
    } catch (error) {
      return this.crash(error);
    }
    return this.leased(reply) ?? this.waitForLoad();
  }

  /** This client won: load, store over the lease's item only, release the win if anything fails. */
  private async load(lease: LeaseReply | null): Promise<Item> {
    if (lease !== null && lease.item.value.length > 0) {
      // Joiners, present and to come, get the value being replaced rather than wait for the load.
      this.stale = lease.item;
      this.answer(lease.item);
    }
    const settings = this.settings;
    try {
      let value: unknown;
      let encoded: Encoded;
      try {
        value = await this.factory(this.key);
        encoded = await this.leases.encode(value, settings);
      } catch (error) {
        await this.release(lease);
        throw error;
      }
      const op = new Command(Verb.LeaseStore);
      op.key = this.key;
      op.value = encoded.value;
      op.flags = encoded.flags;
      op.expires = settings.storeFor;
      if (lease !== null) setCas(op, lease.item);
      let stored: boolean;
      try {
        stored = (await this.leases.sendCommand(op)) as boolean;
      } catch (error) {
        // A value the codec refused, a server that failed: nothing was stored, so the win is released.
        await this.release(lease);
        throw error;
      }
      // Not stored: a newer value is there (another winner, after this one's lockFor ran out, or an
      // invalidate during the load). It is not overwritten; this caller still gets what it loaded.
      return this.land(stored ? loaded(value, encoded, op.casHi, op.casLo) : loaded(value, encoded, 0, 0));
    } catch (error) {
      return this.crash(error);
    }
  }

  /**
   * Gives up a win so the next caller wins at once instead of after lockFor:
   * the empty stub is deleted, a stale or expiring value marked stale again
   * (which clears its win), each only if its CAS is still the lease's (so
   * newer data is never touched). Best effort: if it fails, the stub expires.
   */
  private async release(lease: LeaseReply | null): Promise<void> {
    if (lease === null) return;
    const isStub = lease.item.value.length === 0 && !lease.stale;
    const op = new Command(isStub ? Verb.Delete : Verb.Invalidate);
    op.key = this.key;
    setCas(op, lease.item);
    try {
      await this.leases.sendCommand(op);
    } catch {
      // The caller gets the load's own error; the stub's TTL (lockFor) bounds the damage.
    }
  }

  /** Polls until another client's load is stored, the win comes here, or the call's timeout runs out. */
  private async waitForLoad(): Promise<Item> {
    try {
      const wait = this.settings.wait;
      const deadline = Date.now() + wait;
      for (let pause = FIRST_POLL; ; pause = Math.min(pause * 2, LAST_POLL)) {
        if (Date.now() + pause > deadline) {
          throw new MemcacheError(
            ErrorCode.TIMEOUT,
            `getOrSet waited ${wait} ms for another client to load the value (raise its timeout, up to lockFor)`,
          );
        }
        await sleep(pause);
        const done = this.leased(await this.leases.sendCommand(this.leaseCommand()));
        if (done !== null) return done;
      }
    } catch (error) {
      return this.crash(error);
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

