/**
 * The everyday commands: get, set, delete, incr, decr, stats, version, flush.
 * Each builds a Group from --servers, does one thing, closes it, and says what
 * happened in one line (or JSON); errors reach main, which prints their code.
 */
import { Group } from '../group.js';
import type { Item } from '../item.js';
import { checkKey } from '../key.js';
import {
  Exit,
  SERVER_OPTIONS_HELP,
  UsageError,
  distribution,
  expectPositionals,
  integer,
  out,
  parseCommand,
  protocol,
  serverList,
  serverOptions,
} from './args.js';

type ServerValues = { servers?: string; distribution?: string; protocol?: string; timeout?: string };

/** Keys are checked before any connection: a bad key is a usage error even with the server down. */
function checkKeys(keys: string[]): void {
  for (const key of keys) checkKey(key);
}

function openGroup(values: ServerValues): Group {
  const timeout = integer('--timeout', values.timeout, 1000, 1, 3_600_000);
  return new Group(serverList(values.servers), {
    distribution: distribution(values.distribution),
    protocol: protocol(values.protocol),
    timeout,
    connectTimeout: timeout,
  });
}

async function withGroup<T>(values: ServerValues, run: (group: Group) => Promise<T>): Promise<T> {
  const group = openGroup(values);
  try {
    return await run(group);
  } finally {
    await group.close();
  }
}

const json = (value: unknown): Promise<void> => out(`${JSON.stringify(value, null, 2)}\n`);

const MAX_UINT32 = 0xffffffff;
const MAX_UINT64 = (1n << 64n) - 1n;

function uint64(name: string, text: string | undefined, fallback: bigint): bigint {
  if (text === undefined) return fallback;
  const value = /^\d{1,20}$/.test(text) ? BigInt(text) : -1n;
  if (value < 0n || value > MAX_UINT64) throw new UsageError(`${name} must be an integer from 0 to 2^64-1, got "${text}"`);
  return value;
}

async function readStdin(): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

// ---- get ----

export const GET_HELP = `Usage: memring get [options] KEY [KEY...]

Prints the value stored under KEY, followed by a newline. With several keys,
one "KEY VALUE" line per key found. Exit 3 if a key is missing.

Options:
      --raw              print the value's bytes exactly, no newline (one key)
${SERVER_OPTIONS_HELP}

JSON: an array of { key, server, value, flags, cas } (value null on a miss).`;

export async function get(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand({
    args,
    options: { ...serverOptions, raw: { type: 'boolean' } },
    allowPositionals: true,
  });
  if (values.help) return help(GET_HELP);
  expectPositionals(positionals, 1, Infinity, 'KEY');
  if (values.raw && positionals.length > 1) throw new UsageError('--raw takes one key');
  checkKeys(positionals);
  return withGroup(values, async (group) => {
    // One get per key (pipelined), not getMulti: a server failing must be an error here, not a miss.
    const items = await Promise.all(positionals.map((key) => group.get(key)));
    const missing = items.some((item) => item === null);
    if (values.json) {
      await json(
        positionals.map((key, i) => {
          const item = items[i] ?? null;
          return {
            key,
            server: group.serverFor(key),
            value: item === null ? null : item.text,
            flags: item === null ? null : item.flags,
            cas: item === null ? null : String(item.cas),
          };
        }),
      );
    } else if (positionals.length === 1) {
      const item = items[0] ?? null;
      if (item !== null) await out(values.raw ? item.value : Buffer.concat([item.value, NEWLINE]));
      else process.stderr.write(`memring get: ${positionals[0]!}: not found\n`);
    } else {
      for (const [i, key] of positionals.entries()) {
        const item: Item | null = items[i] ?? null;
        if (item === null) process.stderr.write(`memring get: ${key}: not found\n`);
        else await out(Buffer.concat([Buffer.from(`${key} `), item.value, NEWLINE]));
      }
    }
    return missing ? Exit.NOT_FOUND : Exit.OK;
  });
}

const NEWLINE = Buffer.from('\n');

// ---- set ----

export const SET_HELP = `Usage: memring set [options] KEY [VALUE]

Stores VALUE under KEY (on the server the ring picks). Without VALUE, the value
is read from standard input, bytes as they are: memring set k < file.

Options:
  -e, --expires SECONDS  time to live; 0 = never (default), over 2592000 = Unix time
  -f, --flags N          32-bit flags stored with the value (default 0)
${SERVER_OPTIONS_HELP}`;

export async function set(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand({
    args,
    options: { ...serverOptions, expires: { type: 'string', short: 'e' }, flags: { type: 'string', short: 'f' } },
    allowPositionals: true,
  });
  if (values.help) return help(SET_HELP);
  expectPositionals(positionals, 1, 2, 'KEY');
  const expires = integer('--expires', values.expires, 0, 0, MAX_UINT32);
  const flags = integer('--flags', values.flags, 0, 0, MAX_UINT32);
  const key = positionals[0]!;
  checkKeys([key]);
  let value: string | Uint8Array;
  if (positionals.length === 2) value = positionals[1]!;
  else if (process.stdin.isTTY) throw new UsageError('missing VALUE (or pipe it on standard input)');
  else value = await readStdin();
  return withGroup(values, async (group) => {
    await group.set(key, value, { expires, flags });
    const server = group.serverFor(key);
    if (values.json) await json({ key, server, stored: true });
    else await out(`stored ${key} on ${server ?? '?'}\n`);
    return Exit.OK;
  });
}

// ---- delete ----

export const DELETE_HELP = `Usage: memring delete [options] KEY [KEY...]

Deletes each KEY. Exit 3 if a key was not there.

Options:
${SERVER_OPTIONS_HELP}

JSON: an array of { key, server, deleted }.`;

export async function del(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand({ args, options: serverOptions, allowPositionals: true });
  if (values.help) return help(DELETE_HELP);
  expectPositionals(positionals, 1, Infinity, 'KEY');
  checkKeys(positionals);
  return withGroup(values, async (group) => {
    const deleted = await Promise.all(positionals.map((key) => group.delete(key)));
    if (values.json) {
      await json(positionals.map((key, i) => ({ key, server: group.serverFor(key), deleted: deleted[i] })));
    } else {
      for (const [i, key] of positionals.entries()) {
        if (deleted[i]) await out(`deleted ${key}\n`);
        else process.stderr.write(`memring delete: ${key}: not found\n`);
      }
    }
    return deleted.every(Boolean) ? Exit.OK : Exit.NOT_FOUND;
  });
}

// ---- incr / decr ----

const counterHelp = (name: 'incr' | 'decr'): string => `Usage: memring ${name} [options] KEY [DELTA]

${name === 'incr' ? 'Adds DELTA (default 1) to' : 'Subtracts DELTA (default 1) from'} the decimal number stored under KEY and prints
the new value (64-bit: ${name === 'incr' ? 'wraps at 2^64' : 'stops at 0'}). Exit 3 if KEY is missing and no --initial is given.

Options:
  -i, --initial N        create a missing KEY with this value (atomically)
  -e, --expires SECONDS  expiration of the item when --initial creates it
${SERVER_OPTIONS_HELP}`;

export const INCR_HELP = counterHelp('incr');
export const DECR_HELP = counterHelp('decr');

export async function counter(name: 'incr' | 'decr', args: string[]): Promise<number> {
  const { values, positionals } = parseCommand({
    args,
    options: { ...serverOptions, initial: { type: 'string', short: 'i' }, expires: { type: 'string', short: 'e' } },
    allowPositionals: true,
  });
  if (values.help) return help(counterHelp(name));
  expectPositionals(positionals, 1, 2, 'KEY');
  const key = positionals[0]!;
  checkKeys([key]);
  const delta = uint64('DELTA', positionals[1], 1n);
  if (values.expires !== undefined && values.initial === undefined) throw new UsageError('--expires needs --initial');
  const options = {
    ...(values.initial === undefined ? {} : { initial: uint64('--initial', values.initial, 0n) }),
    ...(values.expires === undefined ? {} : { expires: integer('--expires', values.expires, 0, 0, MAX_UINT32 - 1) }),
  };
  return withGroup(values, async (group) => {
    const result = await (name === 'incr' ? group.incr(key, delta, options) : group.decr(key, delta, options));
    if (values.json) await json({ key, server: group.serverFor(key), value: result === null ? null : String(result) });
    else if (result !== null) await out(`${result}\n`);
    else process.stderr.write(`memring ${name}: ${key}: not found\n`);
    return result === null ? Exit.NOT_FOUND : Exit.OK;
  });
}

// ---- stats / version / flush ----

export const STATS_HELP = `Usage: memring stats [options] [GROUP]

Prints every server's statistics ("stats" in memcached's terms), or a group of
them: settings, items, slabs, sizes, conns.

Options:
${SERVER_OPTIONS_HELP}

JSON: { "host:port": { name: value, ... }, ... }.`;

export async function stats(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand({ args, options: serverOptions, allowPositionals: true });
  if (values.help) return help(STATS_HELP);
  expectPositionals(positionals, 0, 1, 'GROUP');
  return withGroup(values, async (group) => {
    const byServer = await group.stats(positionals[0]);
    if (values.json) return json(Object.fromEntries(byServer)).then(() => Exit.OK);
    const lines: string[] = [];
    for (const [server, entries] of byServer) {
      lines.push(server);
      const names = Object.keys(entries);
      const width = Math.max(0, ...names.map((n) => n.length));
      for (const name of names) lines.push(`  ${name.padEnd(width)}  ${entries[name]!}`);
    }
    await out(`${lines.join('\n')}\n`);
    return Exit.OK;
  });
}

export const VERSION_HELP = `Usage: memring version [options]

Prints each server's memcached version.

Options:
${SERVER_OPTIONS_HELP}

JSON: { "host:port": "1.6.18", ... }.`;

export async function version(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand({ args, options: serverOptions, allowPositionals: true });
  if (values.help) return help(VERSION_HELP);
  expectPositionals(positionals, 0, 0, '');
  return withGroup(values, async (group) => {
    const byServer = await group.version();
    if (values.json) await json(Object.fromEntries(byServer));
    else await out([...byServer].map(([server, v]) => `${server} ${v}\n`).join(''));
    return Exit.OK;
  });
}

export const FLUSH_HELP = `Usage: memring flush [options]

Invalidates every item on every server listed (memcached's flush_all).

Options:
      --delay SECONDS    flush after this many seconds instead of now
${SERVER_OPTIONS_HELP}

JSON: { "flushed": ["host:port", ...], "delay": SECONDS }.`;

export async function flush(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand({
    args,
    options: { ...serverOptions, delay: { type: 'string' } },
    allowPositionals: true,
  });
  if (values.help) return help(FLUSH_HELP);
  expectPositionals(positionals, 0, 0, '');
  const delay = integer('--delay', values.delay, 0, 0, MAX_UINT32);
  return withGroup(values, async (group) => {
    await group.flush(delay);
    if (values.json) await json({ flushed: group.serverNames, delay });
    else await out(group.serverNames.map((s) => `flushed ${s}${delay > 0 ? ` in ${delay} s` : ''}\n`).join(''));
    return Exit.OK;
  });
}

export async function help(text: string): Promise<number> {
  await out(`${text}\n`);
  return Exit.OK;
}
