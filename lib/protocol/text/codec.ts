/**
 * memcached's classic text protocol behind the Codec interface: what every
 * memcached speaks, and the only protocol twemproxy and mcrouter proxy.
 *
 * Text replies carry no tag: they answer the commands in the order sent (the
 * connection's FIFO). Nothing is sent with `noreply`, so every command
 * settles. A get's VALUE echoes its key, which is checked; a getMulti's hits
 * are named by the key echoed (a proxy that merges backends' replies may not
 * keep the order asked).
 *
 * Error replies and the binary status each is given, as in the meta codec:
 *
 * | reply                                                      | code                   | status                 |
 * |------------------------------------------------------------|------------------------|------------------------|
 * | CLIENT_ERROR cannot increment or decrement non-numeric ... | MC_ERR_NOT_NUMERIC     | 0x06 non-numeric       |
 * | CLIENT_ERROR unauthenticated                               | MC_ERR_AUTH            | 0x20 auth error        |
 * | CLIENT_ERROR flush_all not allowed (memcached -F)          | MC_ERR_AUTH            | 0x20                   |
 * | CLIENT_ERROR <anything else>                               | MC_ERR_SERVER          | 0x04 invalid arguments |
 * | SERVER_ERROR object too large for cache                    | MC_ERR_VALUE_TOO_LARGE | 0x03 value too large   |
 * | SERVER_ERROR out of memory ...                             | MC_ERR_SERVER          | 0x82 out of memory     |
 * | SERVER_ERROR <anything else> (twemproxy: a backend failed) | MC_ERR_SERVER          | 0x84 internal error    |
 * | ERROR to stats (an unknown group)                          | MC_ERR_SERVER          | 0x81 unknown command   |
 * | ERROR to anything else: the server lacks the command       | MC_ERR_UNSUPPORTED     | 0x81 unknown command   |
 *
 * An error line settles the command it answers (a get or getMulti included:
 * no END follows it) and the connection stays. Anything else that is not the
 * expected reply closes it (read() throws MC_ERR_PROTOCOL).
 *
 * twemproxy answers commands it does not proxy (stats, flush_all, gat/gats)
 * by closing the connection without a word, dropping whatever was in flight
 * on it. When a connection closes that way with one of those commands
 * written and unanswered, the command fails with MC_ERR_UNSUPPORTED, and
 * later ones of that kind are refused on this connection without being sent
 * (until a connection attempt fails: the server was down, not a proxy).
 */
import { Verb, verbName, type Command } from '../../command.js';
import { ErrorCode, MemcacheError } from '../../errors.js';
import { Item } from '../../item.js';
import type { Codec, CodecFactory, CodecOptions, EncodedOutput, ReplyTarget } from '../codec.js';
import { MetaWriter } from '../meta/writer.js';
import { Status } from '../status.js';
import { errorLineError, statusError, textAuthError } from '../error-line.js';
import { Reply, TextReader, replyName, type TextReplyHandler } from './reader.js';
import { StoreCommand, TextWriter } from './writer.js';

/** The largest expiration (or flush delay) a text-protocol server reads as it is meant. */
const MAX_TEXT_TTL = 0x7fffffff;
/** A VALUE may carry this much beyond the item limit before it counts as corrupt. */
const VALUE_SLACK = 64 * 1024;
const NO_CHUNKS: readonly Uint8Array[] = [];
const utf8 = new TextEncoder();

/** The verbs twemproxy closes the connection on, as bits, and the command each is sent as. */
const PROXY_REFUSED: Partial<Record<Verb, string>> = { [Verb.GetAndTouch]: 'gats', [Verb.Stats]: 'stats', [Verb.Flush]: 'flush_all' };

export const textCodec: CodecFactory = (options, target) => new TextCodec(options, target);

/** The writer, told which command the bytes it hands out end with (what a close leaves unanswered). */
class MarkedWriter extends TextWriter {
  /** The last command encoded, and the last one whose request has been handed to the socket. */
  encoded: Command | null = null;
  written: Command | null = null;

  override drain(): Uint8Array[] {
    this.written = this.encoded;
    return super.drain();
  }
}

export class TextCodec implements Codec, TextReplyHandler {
  private readonly writer: MarkedWriter;
  readonly output: EncodedOutput;
  private readonly reader: TextReader;
  private readonly server: string;
  private readonly username: string;
  /** The authentication request, made once (null without credentials). */
  private readonly auth: readonly Uint8Array[];
  private authenticating = false;
  /** getMulti at the head: where in its keys the next hit is looked for first. */
  private multiNext = 0;
  /** The head has had part of its reply (STAT or VALUE lines before its END). */
  private headAnswered = false;
  /** Since handshake(): whether a request was encoded, whether any byte came back. */
  private wrote = false;
  private heard = false;
  /** read() threw: the close that follows is ours, not the server's. */
  private broken = false;
  /** handshake() was called since the last reset(): the connection opened. */
  private opened = false;
  /** Verbs the server closed the connection on (see the header): bit (1 << verb). */
  private refused = 0;

  constructor(
    options: CodecOptions,
    private readonly target: ReplyTarget,
  ) {
    this.server = options.server;
    this.writer = new MarkedWriter(options.maxValueSize);
    this.output = this.writer;
    this.reader = new TextReader(this, options.maxValueSize + VALUE_SLACK);
    const sasl = options.sasl;
    this.username = sasl?.username ?? '';
    if (sasl === undefined) {
      this.auth = NO_CHUNKS;
    } else {
      // memcached -Y's text authentication is the same request in both text dialects.
      const writer = new MetaWriter();
      writer.auth(sasl.username, sasl.password);
      this.auth = [writer.drain()[0]!.slice()];
    }
  }

  // ---- requests ---------------------------------------------------------------

  encode(command: Command): void {
    const verb = command.verb;
    // memcached reads a text TTL as a signed 32-bit number: past this it is negative and the item expires at once.
    if (command.expires > MAX_TEXT_TTL) {
      throw new MemcacheError(
        ErrorCode.BAD_ARGUMENT,
        `expires ${command.expires} is past ${MAX_TEXT_TTL}, the largest the text protocol carries (memcached would expire the item at once); use protocol 'binary' for absolute times after 2038-01-19`,
      );
    }
    if ((this.refused & (1 << verb)) !== 0 && !command.resent) throw this.refusedError(verb, true);
    const writer = this.writer;
    const cas = command.casHi !== 0 || command.casLo !== 0;
    switch (verb) {
      case Verb.Get:
        writer.get(command.key);
        // The hit is kept here until END (a first attempt's, on a connection since lost, is not this one's).
        command.result = null;
        break;
      case Verb.GetAndTouch:
        writer.getAndTouch(command.key, command.expires);
        command.result = null;
        break;
      case Verb.Touch:
        writer.touch(command.key, command.expires);
        break;
      case Verb.GetMulti:
        writer.getMany(command.keys!);
        break;
      case Verb.Set:
        writer.store(cas ? StoreCommand.Cas : StoreCommand.Set, command.key, command.value!, command.flags, command.expires, command.casHi, command.casLo);
        break;
      case Verb.Replace:
        // cas stores only over an existing item: a replace with a CAS condition.
        writer.store(cas ? StoreCommand.Cas : StoreCommand.Replace, command.key, command.value!, command.flags, command.expires, command.casHi, command.casLo);
        break;
      case Verb.Add:
        if (cas) throw this.noCas(verb);
        writer.store(StoreCommand.Add, command.key, command.value!, command.flags, command.expires, 0, 0);
        break;
      case Verb.Append:
        if (cas) throw this.noCas(verb);
        writer.store(StoreCommand.Append, command.key, command.value!, 0, 0, 0, 0);
        break;
      case Verb.Prepend:
        if (cas) throw this.noCas(verb);
        writer.store(StoreCommand.Prepend, command.key, command.value!, 0, 0, 0, 0);
        break;
      case Verb.Delete:
        if (cas) throw this.noCas(verb);
        writer.delete(command.key);
        break;
      case Verb.Increment:
      case Verb.Decrement:
        if (command.create) {
          // Group runs these as incr, add, incr (text-counter.ts): text has no atomic create.
          throw new MemcacheError(ErrorCode.UNSUPPORTED, `${verbName(verb)} with an initial value is not one text command; run it through a Group`);
        }
        writer.arithmetic(command.key, verb === Verb.Decrement, command.delta);
        break;
      case Verb.Flush:
        writer.flush(command.expires);
        break;
      case Verb.Stats:
        command.result = null;
        writer.stats(command.key === '' ? null : command.key);
        break;
      case Verb.Version:
      case Verb.Noop:
        // Text has no no-op: version is the cheapest round trip (twemproxy passes it to a backend).
        writer.version();
        break;
      default:
        throw new MemcacheError(ErrorCode.UNSUPPORTED, `${verbName(verb)} is not possible in the text protocol; use protocol 'meta' or 'binary'`, {
          server: this.server,
        });
    }
    writer.encoded = command;
    this.wrote = true;
  }

  // ---- connection -------------------------------------------------------------

  handshake(): readonly Uint8Array[] {
    this.reader.reset();
    this.multiNext = 0;
    this.headAnswered = false;
    // Requests encoded while the connection was being made go out now, after the handshake.
    this.wrote = this.auth.length > 0 || this.writer.pending;
    this.heard = false;
    this.broken = false;
    this.opened = true;
    this.authenticating = this.auth.length > 0;
    return this.auth;
  }

  get awaitingHandshake(): boolean {
    return this.authenticating;
  }

  read(chunk: Uint8Array, kept = false): void {
    if (chunk.length > 0) this.heard = true;
    try {
      this.reader.push(chunk, kept);
    } catch (error) {
      this.broken = true;
      throw error;
    }
  }

  reset(): void {
    if (!this.opened) {
      // A connection attempt failed: whatever closed on us before was a server going down, not a proxy refusing.
      this.refused = 0;
    } else if (!this.broken) {
      this.failRefused();
    }
    this.opened = false;
    this.broken = false;
    this.reader.reset();
    this.multiNext = 0;
    this.headAnswered = false;
  }

  /**
   * What it most likely means that this connection got not one byte back
   * after requests were written, or null: memcached started with -S speaks
   * only binary, and closes the connection when text arrives.
   */
  silenceHint(): string | null {
    if (!this.wrote || this.heard || this.refusedInFlight() !== null) return null;
    return "memcached started with -S (binary SASL authentication) speaks only the binary protocol: if that is this server, choose protocol: 'binary'";
  }

  /**
   * The connection is going down with requests unanswered. If the server
   * closed it (this is not a timeout, nor our own protocol error) with a
   * command twemproxy does not proxy written and unanswered, that command
   * fails as unsupported (so it is not sent again) and the verb is refused
   * from now on.
   */
  private failRefused(): void {
    const refusedOnes = this.refusedInFlight();
    if (refusedOnes === null) return;
    for (const command of refusedOnes) {
      this.refused |= 1 << command.verb;
      command.fail(this.refusedError(command.verb, false));
    }
  }

  /** The written, unanswered commands of a verb twemproxy refuses, when the close cannot be a timeout; else null. */
  private refusedInFlight(): Command[] | null {
    const head = this.target.head();
    const written = this.writer.written;
    if (head === null || written === null || Date.now() >= head.deadline) return null;
    let found: Command[] | null = null;
    for (let command: Command | null = head; command !== null; command = command.next) {
      const answered = command === head && (this.headAnswered || this.reader.partial);
      if (!command.settled && !answered && PROXY_REFUSED[command.verb] !== undefined) (found ??= []).push(command);
      if (command === written) return found;
    }
    // The last written command was answered already: nothing written is waiting.
    return null;
  }

  // ---- replies ----------------------------------------------------------------

  onReply(r: TextReader): void {
    if (this.authenticating) return this.authReply(r);
    const head = this.target.head();
    if (head === null) throw this.protocolError(`${replyName(r.kind)} with no command in flight`);
    const kind = r.kind;
    if (kind === Reply.CLIENT_ERROR || kind === Reply.SERVER_ERROR || kind === Reply.ERROR) {
      // Through twemproxy, a Noop (sent as version) answered by an error still proves the proxy answers.
      if (head.verb === Verb.Noop && kind === Reply.SERVER_ERROR) head.succeed(undefined);
      else head.fail(this.serverError(head, r));
      return this.done();
    }
    switch (head.verb) {
      case Verb.Get:
      case Verb.GetAndTouch:
        if (kind === Reply.VALUE) {
          if (!sameKey(r, head.key)) throw this.protocolError(`VALUE for another key than the ${verbName(head.verb)} in flight asked for`);
          if (this.headAnswered) throw this.protocolError(`a second VALUE for one ${verbName(head.verb)}`);
          this.headAnswered = true;
          if (!head.settled) head.result = new Item(r.value(), r.flags, r.casHi, r.casLo);
          return;
        }
        if (kind !== Reply.END) throw this.unexpected(head, r);
        head.succeed(head.result);
        head.result = null;
        return this.done();
      case Verb.GetMulti:
        return this.multiReply(head, r);
      case Verb.Touch:
        if (kind === Reply.TOUCHED) head.succeed(true);
        else if (kind === Reply.NOT_FOUND) head.succeed(false);
        else throw this.unexpected(head, r);
        return this.done();
      case Verb.Set:
      case Verb.Add:
      case Verb.Replace:
      case Verb.Append:
      case Verb.Prepend:
        if (kind === Reply.STORED) head.succeed(true);
        else if (kind === Reply.NOT_STORED || kind === Reply.EXISTS || kind === Reply.NOT_FOUND) head.succeed(false);
        else throw this.unexpected(head, r);
        return this.done();
      case Verb.Delete:
        if (kind === Reply.DELETED) head.succeed(true);
        else if (kind === Reply.NOT_FOUND) head.succeed(false);
        else throw this.unexpected(head, r);
        return this.done();
      case Verb.Increment:
      case Verb.Decrement:
        if (kind === Reply.NUMBER) head.succeed(r.counter());
        else if (kind === Reply.NOT_FOUND) head.succeed(null);
        else throw this.unexpected(head, r);
        return this.done();
      case Verb.Flush:
        if (kind !== Reply.OK) throw this.unexpected(head, r);
        head.succeed(undefined);
        return this.done();
      case Verb.Version:
        if (kind !== Reply.VERSION) throw this.unexpected(head, r);
        head.succeed(r.text());
        return this.done();
      case Verb.Stats:
        if (kind === Reply.STAT) {
          this.headAnswered = true;
          if (head.result === null) head.result = Object.create(null);
          (head.result as Record<string, string>)[r.statName()] = r.statValue();
          return;
        }
        if (kind !== Reply.END) throw this.unexpected(head, r);
        head.succeed(head.result ?? Object.create(null));
        return this.done();
      default:
        // Noop, sent as version.
        if (kind !== Reply.VERSION) throw this.unexpected(head, r);
        head.succeed(undefined);
        return this.done();
    }
  }

  private done(): void {
    this.headAnswered = false;
    this.multiNext = 0;
    this.target.complete();
  }

  private multiReply(head: Command, r: TextReader): void {
    const kind = r.kind;
    if (kind === Reply.END) {
      head.succeed(head.result);
      return this.done();
    }
    if (kind !== Reply.VALUE) throw this.unexpected(head, r);
    const keys = head.keys!;
    this.headAnswered = true;
    // Hits come in the order asked from memcached and twemproxy: look ahead first, then anywhere.
    let index = -1;
    for (let i = this.multiNext; i < keys.length; i++) {
      if (sameKey(r, keys[i]!)) {
        index = i;
        break;
      }
    }
    if (index < 0) {
      for (let i = 0; i < this.multiNext && i < keys.length; i++) {
        if (sameKey(r, keys[i]!)) {
          index = i;
          break;
        }
      }
      if (index < 0) throw this.protocolError(`VALUE for ${JSON.stringify(r.keyText().slice(0, 64))}, a key the getMulti in flight did not ask for`);
    } else this.multiNext = index + 1;
    if (!head.settled) (head.result as Map<string, Item>).set(keys[index]!, new Item(r.value(), r.flags, r.casHi, r.casLo));
  }

  /** The error an error line means for `head`. */
  private serverError(head: Command, r: TextReader): MemcacheError {
    if (r.kind === Reply.ERROR) {
      if (head.verb === Verb.Stats) return this.statusError(head, Status.UnknownCommand, ErrorCode.SERVER, 'the server answered ERROR');
      return this.statusError(head, Status.UnknownCommand, ErrorCode.UNSUPPORTED, `the server answered ERROR: it does not know the text command ${verbName(head.verb)} is sent as`);
    }
    return errorLineError(head.verb, r.kind === Reply.CLIENT_ERROR, r.text(), this.server);
  }

  private authReply(r: TextReader): void {
    if (r.kind === Reply.STORED) {
      this.authenticating = false;
      this.target.ready();
      return;
    }
    const said = r.kind === Reply.CLIENT_ERROR || r.kind === Reply.SERVER_ERROR ? `${replyName(r.kind)} ${r.text()}` : replyName(r.kind);
    throw textAuthError(this.username, said, this.server);
  }

  private refusedError(verb: Verb, earlier: boolean): MemcacheError {
    const command = PROXY_REFUSED[verb]!;
    const what = earlier
      ? `${verbName(verb)} refused without sending it: this server closed the connection on an earlier \`${command}\``
      : `${verbName(verb)} failed: the server closed the connection on \`${command}\``;
    return new MemcacheError(
      ErrorCode.UNSUPPORTED,
      `${what}, as twemproxy does for the commands it does not proxy (stats, flush_all, gat/gats); ask the memcached servers behind the proxy directly`,
      { server: this.server },
    );
  }

  private noCas(verb: Verb): MemcacheError {
    return new MemcacheError(
      ErrorCode.UNSUPPORTED,
      `${verbName(verb)} with a CAS token is not possible in the text protocol (only set and replace take one, as cas); use protocol 'meta' or 'binary'`,
      { server: this.server },
    );
  }

  private unexpected(head: Command, r: TextReader): MemcacheError {
    return this.protocolError(`${replyName(r.kind)} is no answer to ${verbName(head.verb)}`);
  }

  private protocolError(what: string): MemcacheError {
    return new MemcacheError(ErrorCode.PROTOCOL, `text reply out of step: ${what}`, { server: this.server });
  }

  private statusError(head: Command, status: number, code: ErrorCode, said: string): MemcacheError {
    return statusError(head.verb, status, code, said, this.server);
  }
}

/** Whether the VALUE's key is `key` (ASCII compared in place; a key with other characters as UTF-8). */
function sameKey(r: TextReader, key: string): boolean {
  const n = r.keyLength;
  const bytes = r.key;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c >= 0x80) return sameUtf8(bytes, n, key);
    if (i >= n || bytes[i] !== c) return false;
  }
  return key.length === n;
}

function sameUtf8(bytes: Uint8Array, n: number, key: string): boolean {
  const encoded = utf8.encode(key);
  if (encoded.length !== n) return false;
  for (let i = 0; i < n; i++) if (encoded[i] !== bytes[i]) return false;
  return true;
}
