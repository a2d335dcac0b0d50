/**
 * memcached's meta protocol (memcached 1.6+) behind the Codec interface:
 * mg/ms/md/ma/mn for the item commands, the classic text commands for flush,
 * version and stats, and text authentication (memcached -Y).
 *
 * Replies are matched to commands by their O tag (a 32-bit counter). Error
 * lines carry no tag: they answer the oldest command in flight.
 *
 * Error replies and the binary status each is given, so that
 * MemcacheError.status means the same whatever the protocol:
 *
 * | reply                                                      | code                   | status               |
 * |------------------------------------------------------------|------------------------|----------------------|
 * | CLIENT_ERROR cannot increment or decrement non-numeric ... | MC_ERR_NOT_NUMERIC     | 0x06 non-numeric     |
 * | CLIENT_ERROR unauthenticated                               | MC_ERR_AUTH            | 0x20 auth error      |
 * | CLIENT_ERROR authentication failure (the handshake)        | MC_ERR_AUTH            | 0x20 auth error      |
 * | CLIENT_ERROR flush_all not allowed (memcached -F)          | MC_ERR_AUTH            | 0x20 (binary's answer) |
 * | CLIENT_ERROR <anything else> (bad data chunk, bad format)  | MC_ERR_SERVER          | 0x04 invalid arguments |
 * | SERVER_ERROR object too large for cache                    | MC_ERR_VALUE_TOO_LARGE | 0x03 value too large |
 * | SERVER_ERROR out of memory [storing object ...]            | MC_ERR_SERVER          | 0x82 out of memory   |
 * | SERVER_ERROR <anything else>                               | MC_ERR_SERVER          | 0x84 internal error  |
 * | ERROR to stats/flush_all/version (e.g. an unknown group)   | MC_ERR_SERVER          | 0x81 unknown command |
 * | NS to ma (a missing key could not be created)              | MC_ERR_SERVER          | 0x05 not stored      |
 * | ERROR to a meta command: the server speaks no meta         | MC_ERR_PROTOCOL (closes) | none               |
 *
 * Keep or close: an error line answering a command fails that command (a
 * getMulti keeps the first and fails at its MN) and the connection stays.
 * Everything else that is not the expected reply closes it (read() throws
 * MC_ERR_PROTOCOL): garbage, an unknown reply word, a tag that is not the
 * oldest command's, a reply with nothing in flight, a reply of the wrong kind
 * for the command, ERROR to a meta command.
 */
import { Verb, verbName, type Command } from '../../command.js';
import { ErrorCode, MemcacheError } from '../../errors.js';
import { Item } from '../../item.js';
import type { Codec, CodecFactory, CodecOptions, EncodedOutput, ReplyTarget } from '../codec.js';
import { Status } from '../status.js';
import { errorLineError, statusError, textAuthError } from '../error-line.js';
import { LeaseReply } from './lease-reply.js';
import { MetaReader, Reply, replyName, type ReplyHandler } from './reader.js';
import { MetaWriter, StoreMode } from './writer.js';

/** The largest expiration (or flush delay) a text-protocol server reads as it is meant. */
const MAX_TEXT_TTL = 0x7fffffff;
/** A VA may carry this much beyond the item limit before it counts as corrupt. */
const VALUE_SLACK = 64 * 1024;
const NO_CHUNKS: readonly Uint8Array[] = [];

export const metaCodec: CodecFactory = (options, target) => new MetaCodec(options, target);

export class MetaCodec implements Codec, ReplyHandler {
  private readonly writer: MetaWriter;
  /** The writer itself: encoded requests wait in its blocks. */
  readonly output: EncodedOutput;
  private readonly reader: MetaReader;
  private readonly server: string;
  private readonly username: string;
  /** The authentication request, made once (null without credentials). */
  private readonly auth: readonly Uint8Array[];
  private nextTag = 0;
  private authenticating = false;
  /** getMulti at the head: the lowest key index a hit may still name (hits come in request order). */
  private multiNext = 0;
  /** Since handshake(): whether a request was encoded, whether any byte came back. */
  private wrote = false;
  private heard = false;

  constructor(
    options: CodecOptions,
    private readonly target: ReplyTarget,
  ) {
    this.server = options.server;
    this.writer = new MetaWriter(options.maxValueSize);
    this.output = this.writer;
    this.reader = new MetaReader(this, options.maxValueSize + VALUE_SLACK);
    const sasl = options.sasl;
    this.username = sasl?.username ?? '';
    if (sasl === undefined) {
      this.auth = NO_CHUNKS;
    } else {
      const writer = new MetaWriter();
      writer.auth(sasl.username, sasl.password);
      this.auth = [writer.drain()[0]!.slice()];
    }
  }

  // ---- requests ---------------------------------------------------------------

  encode(command: Command): void {
    // memcached reads a text TTL as a signed 32-bit number: past this it is negative and the item
    // expires at once (binary reads the same field unsigned). Refused rather than stored dead.
    if (command.expires > MAX_TEXT_TTL) {
      throw new MemcacheError(
        ErrorCode.BAD_ARGUMENT,
        `expires ${command.expires} is past ${MAX_TEXT_TTL}, the largest the meta protocol carries (memcached would expire the item at once); use protocol 'binary' for absolute times after 2038-01-19`,
      );
    }
    const writer = this.writer;
    const tag = this.nextTag;
    let last = tag;
    switch (command.verb) {
      case Verb.Get:
        writer.get(command.key, tag, false, 0, false);
        break;
      case Verb.GetAndTouch:
        writer.get(command.key, tag, true, command.expires, false);
        break;
      case Verb.Touch:
        writer.touch(command.key, command.expires, tag);
        break;
      case Verb.GetMulti:
        last = this.encodeMulti(command, tag);
        break;
      case Verb.Set:
        writer.store(StoreMode.Set, command.key, command.value!, command.flags, command.expires, command.casHi, command.casLo, tag);
        break;
      case Verb.Add:
        writer.store(StoreMode.Add, command.key, command.value!, command.flags, command.expires, command.casHi, command.casLo, tag);
        break;
      case Verb.Replace:
        writer.store(StoreMode.Replace, command.key, command.value!, command.flags, command.expires, command.casHi, command.casLo, tag);
        break;
      case Verb.Append:
        writer.store(StoreMode.Append, command.key, command.value!, 0, 0, command.casHi, command.casLo, tag);
        break;
      case Verb.Prepend:
        writer.store(StoreMode.Prepend, command.key, command.value!, 0, 0, command.casHi, command.casLo, tag);
        break;
      case Verb.Delete:
        writer.delete(command.key, command.casHi, command.casLo, tag);
        break;
      case Verb.Increment:
      case Verb.Decrement:
        writer.arithmetic(command.key, command.verb === Verb.Decrement, command.delta, command.create, command.expires, command.initial, tag);
        break;
      case Verb.Flush:
        writer.flush(command.expires);
        break;
      case Verb.Version:
        writer.version();
        break;
      case Verb.Stats:
        command.result = null;
        writer.stats(command.key === '' ? null : command.key);
        break;
      case Verb.Lease:
        writer.lease(command.key, tag, command.expires, command.recache);
        break;
      case Verb.LeaseStore:
        // Over the lease's item only; with no item to match (the stub could not be made), only where nothing is.
        writer.store(
          command.casHi === 0 && command.casLo === 0 ? StoreMode.Add : StoreMode.Set,
          command.key, command.value!, command.flags, command.expires, command.casHi, command.casLo, tag, true,
        );
        break;
      case Verb.Invalidate:
        writer.invalidate(command.key, command.expires, command.casHi, command.casLo, tag);
        break;
      default:
        writer.noop();
        break;
    }
    command.tag = tag;
    command.lastTag = last;
    this.nextTag = (last + 1) >>> 0;
    this.wrote = true;
  }

  /** One quiet mg per key (tag + index: a hit names its key by its O), then mn, whose MN ends it. */
  private encodeMulti(command: Command, tag: number): number {
    const keys = command.keys!;
    const writer = this.writer;
    // Every key checked before any request is committed: a bad key sends nothing.
    writer.checkpoint();
    try {
      for (let i = 0; i < keys.length; i++) writer.get(keys[i]!, (tag + i) >>> 0, false, 0, true);
    } catch (error) {
      writer.rollback();
      throw error;
    }
    writer.noop();
    // An error kept from an attempt on an earlier connection is not this attempt's.
    command.error = null;
    return (tag + keys.length) >>> 0;
  }


  // ---- connection -------------------------------------------------------------

  handshake(): readonly Uint8Array[] {
    this.reader.reset();
    this.multiNext = 0;
    // Requests encoded while the connection was being made go out now, after the handshake.
    this.wrote = this.auth.length > 0 || this.writer.pending;
    this.heard = false;
    this.authenticating = this.auth.length > 0;
    return this.auth;
  }

  get awaitingHandshake(): boolean {
    return this.authenticating;
  }

  read(chunk: Uint8Array, kept = false): void {
    if (chunk.length > 0) this.heard = true;
    this.reader.push(chunk, kept);
  }

  reset(): void {
    this.reader.reset();
    this.multiNext = 0;
  }

  /**
   * What it most likely means that this connection got not one byte back
   * after requests were written, or null: memcached started with -S speaks
   * only binary, and closes the connection as soon as 24 bytes that are not a
   * binary frame arrive (it waits in silence for fewer).
   */
  silenceHint(): string | null {
    if (!this.wrote || this.heard) return null;
    return "memcached started with -S (binary SASL authentication) speaks only the binary protocol: if that is this server, choose protocol: 'binary'";
  }

  // ---- replies ----------------------------------------------------------------

  onReply(r: MetaReader): void {
    if (this.authenticating) return this.authReply(r);
    const head = this.target.head();
    if (head === null) throw this.protocolError(`${replyName(r.kind)} with no command in flight`);
    const kind = r.kind;
    if (kind === Reply.CLIENT_ERROR || kind === Reply.SERVER_ERROR || kind === Reply.ERROR) {
      return this.errorReply(head, r);
    }
    switch (head.verb) {
      case Verb.Get:
      case Verb.GetAndTouch:
        this.checkTag(head, r);
        if (kind === Reply.VA) {
          if (!head.settled) head.succeed(new Item(r.value(), r.flags, r.casHi, r.casLo));
        } else if (kind === Reply.EN) head.succeed(null);
        else throw this.unexpected(head, r);
        return this.target.complete();
      case Verb.GetMulti:
        return this.multiReply(head, r);
      case Verb.Touch:
        this.checkTag(head, r);
        if (kind === Reply.HD) head.succeed(true);
        else if (kind === Reply.EN) head.succeed(false);
        else throw this.unexpected(head, r);
        return this.target.complete();
      case Verb.Set:
      case Verb.Add:
      case Verb.Replace:
      case Verb.Append:
      case Verb.Prepend:
      case Verb.Delete:
        this.checkTag(head, r);
        if (kind === Reply.HD) head.succeed(true);
        else if (kind === Reply.NF || kind === Reply.EX || (kind === Reply.NS && head.verb !== Verb.Delete)) head.succeed(false);
        else throw this.unexpected(head, r);
        return this.target.complete();
      case Verb.Increment:
      case Verb.Decrement:
        this.checkTag(head, r);
        if (kind === Reply.VA) {
          const value = r.counter();
          head.succeed(value);
        } else if (kind === Reply.NF) head.succeed(null);
        else if (kind === Reply.NS) head.fail(this.statusError(head, Status.ItemNotStored, ErrorCode.SERVER, 'the missing key could not be created (NS)'));
        else throw this.unexpected(head, r);
        return this.target.complete();
      case Verb.Lease:
        this.checkTag(head, r);
        if (kind === Reply.VA) {
          if (!head.settled) {
            const item = new Item(r.value(), r.flags, r.casHi, r.casLo);
            // A plain hit resolves as a get does; W, X or Z come with what they say.
            head.succeed(r.lease === 0 ? item : new LeaseReply(item, r.lease));
          }
        } else if (kind === Reply.EN) head.succeed(null);
        else throw this.unexpected(head, r);
        return this.target.complete();
      case Verb.LeaseStore:
        this.checkTag(head, r);
        if (kind === Reply.HD) {
          // The stored item's CAS (asked for with c), for the Item getOrSet resolves to.
          head.casHi = r.casHi;
          head.casLo = r.casLo;
          head.succeed(true);
        } else if (kind === Reply.NS || kind === Reply.EX || kind === Reply.NF) head.succeed(false);
        else throw this.unexpected(head, r);
        return this.target.complete();
      case Verb.Invalidate:
        this.checkTag(head, r);
        if (kind === Reply.HD) head.succeed(true);
        else if (kind === Reply.NF || kind === Reply.EX) head.succeed(false);
        else throw this.unexpected(head, r);
        return this.target.complete();
      case Verb.Flush:
        if (kind !== Reply.OK) throw this.unexpected(head, r);
        head.succeed(undefined);
        return this.target.complete();
      case Verb.Version:
        if (kind !== Reply.VERSION) throw this.unexpected(head, r);
        head.succeed(r.text());
        return this.target.complete();
      case Verb.Stats:
        if (kind === Reply.STAT) {
          if (head.result === null) head.result = Object.create(null);
          (head.result as Record<string, string>)[r.statName()] = r.statValue();
          return;
        }
        if (kind !== Reply.END) throw this.unexpected(head, r);
        head.succeed(head.result ?? Object.create(null));
        return this.target.complete();
      default:
        if (kind !== Reply.MN) throw this.unexpected(head, r);
        head.succeed(undefined);
        return this.target.complete();
    }
  }

  private multiReply(head: Command, r: MetaReader): void {
    const kind = r.kind;
    if (kind === Reply.MN) {
      this.multiNext = 0;
      if (head.error !== null) head.fail(head.error);
      else head.succeed(head.result);
      return this.target.complete();
    }
    if (kind !== Reply.VA && kind !== Reply.EN) throw this.unexpected(head, r);
    const keys = head.keys!;
    const index = (r.opaque - head.tag) >>> 0;
    if (r.opaque < 0 || index >= keys.length || index < this.multiNext) {
      throw this.protocolError(`reply tagged ${tagText(r)} answers none of the getMulti's waiting keys (O${head.tag}..O${(head.lastTag - 1) >>> 0})`);
    }
    this.multiNext = index + 1;
    if (kind === Reply.VA && !head.settled) {
      (head.result as Map<string, Item>).set(keys[index]!, new Item(r.value(), r.flags, r.casHi, r.casLo));
    }
  }

  private errorReply(head: Command, r: MetaReader): void {
    const error = this.serverError(head, r);
    if (head.verb === Verb.GetMulti) {
      // The error answers one of its mg's; its MN still comes.
      if (head.error === null) head.error = error;
      return;
    }
    head.fail(error);
    this.target.complete();
  }

  /** The error an error line means for `head`; throws when it means the connection cannot go on. */
  private serverError(head: Command, r: MetaReader): MemcacheError {
    if (r.kind === Reply.ERROR) {
      const verb = head.verb;
      if (verb === Verb.Flush || verb === Verb.Version || verb === Verb.Stats) {
        return this.statusError(head, Status.UnknownCommand, ErrorCode.SERVER, 'the server answered ERROR');
      }
      throw new MemcacheError(
        ErrorCode.PROTOCOL,
        `the server answered ERROR to a meta command (${verbName(verb)}): it does not speak memcached's meta protocol ` +
          "(memcached before 1.6, twemproxy, mcrouter). Choose protocol: 'binary' for memcached 1.4/1.5, " +
          "protocol: 'text' for twemproxy and mcrouter (they speak only the classic text protocol)",
        { server: this.server },
      );
    }
    return errorLineError(head.verb, r.kind === Reply.CLIENT_ERROR, r.text(), this.server);
  }

  private authReply(r: MetaReader): void {
    if (r.kind === Reply.STORED) {
      this.authenticating = false;
      this.target.ready();
      return;
    }
    const said = r.kind === Reply.CLIENT_ERROR || r.kind === Reply.SERVER_ERROR ? `${replyName(r.kind)} ${r.text()}` : replyName(r.kind);
    throw textAuthError(this.username, said, this.server);
  }

  private checkTag(head: Command, r: MetaReader): void {
    if (r.opaque !== head.tag) {
      throw this.protocolError(`reply tagged ${tagText(r)} does not answer the oldest command in flight (${verbName(head.verb)}, O${head.tag})`);
    }
  }

  private unexpected(head: Command, r: MetaReader): MemcacheError {
    return this.protocolError(`${replyName(r.kind)} is no answer to ${verbName(head.verb)}`);
  }

  private protocolError(what: string): MemcacheError {
    return new MemcacheError(ErrorCode.PROTOCOL, `meta reply out of step: ${what}`, { server: this.server });
  }

  private statusError(head: Command, status: number, code: ErrorCode, said: string): MemcacheError {
    return statusError(head.verb, status, code, said, this.server);
  }
}

function tagText(r: MetaReader): string {
  return r.opaque < 0 ? 'with no O' : `O${r.opaque}`;
}
