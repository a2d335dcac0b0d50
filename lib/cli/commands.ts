/**
 * The everyday commands: get, set, delete, incr, decr, stats, version, flush.
 * Each builds a Group from --servers, does one thing, closes it, and says what
 * happened in one line (or JSON); errors reach main, which prints their code.
 */
import { isMemcacheError } from '../errors.js';
import { Group } from '../group.js';
import type { GroupOptions } from '../group-options.js';
import type { Item } from '../item.js';
import { checkKey } from '../key.js';
import {
  Exit,
  SERVER_OPTIONS_HELP,
  UsageError,
  distribution,
  keyHash,
  expectPositionals,
  expiration,
  integer,
  out,
  parseCommand,
  protocol,
  security,
  serverList,
  serverOptions,
} from './args.js';

type ServerValues = {
  servers?: string;
  distribution?: string;
  hash?: string;
  protocol?: string;
  timeout?: string;
  tls?: boolean;
  'tls-ca'?: string;
  'tls-servername'?: string;
  'sasl-user'?: string;
};

/** Keys are checked before any connection: a bad key is a usage error even with the server down. */
function checkKeys(keys: string[]): void {
  for (const key of keys) checkKey(key);
}

function groupOptions(values: ServerValues): GroupOptions {
  const timeout = integer('--timeout', values.timeout, 1000, 1, 3_600_000);
  const hash = keyHash(values.hash);
  return {
    distribution: distribution(values.distribution),
    ...(hash === undefined ? {} : { hash }),
    protocol: protocol(values.protocol),
    timeout,
    connectTimeout: timeout,
    ...security(values),
  };
}

function openGroup(values: ServerValues): Group {
  return new Group(serverList(values.servers), groupOptions(values));
}

type Answer<T> = { server: string; value: T } | { server: string; error: { code: string; message: string } };

/**
 * Asks every server on its own, so one down server does not hide the others'
 * answers (a Group's every-server calls reject as soon as one fails). Each
 * failure is one line on stderr, as main prints errors.
 */
async function eachServer<T>(
  command: string,
  values: ServerValues,
  ask: (group: Group) => Promise<Map<string, T>>,
): Promise<Answer<T>[]> {
  const options = groupOptions(values);
  // The whole list is checked as a Group checks it (a server listed twice...).
  const all = new Group(serverList(values.servers), options);
  const names = all.serverNames;
  await all.close();
  const answers = await Promise.all(
    names.map(async (server): Promise<Answer<T>> => {
      const one = new Group([server], options);
      try {
        const [value] = (await ask(one)).values();
        return { server, value: value! };
      } catch (error) {
        if (!isMemcacheError(error)) throw error;
        return { server, error: { code: error.code, message: error.message } };
      } finally {
        await one.close();
      }
    }),
  );
  for (const answer of answers) {
    if ('error' in answer) process.stderr.write(`memring ${command}: ${answer.error.code}: ${answer.error.message}\n`);
  }
  return answers;
}

const failedAny = (answers: Answer<unknown>[]): number => (answers.some((a) => 'error' in a) ? Exit.FAILED : Exit.OK);

/** JSON of per-server answers: the value, or { error: code, message } for a server that failed. */
const answersJson = (answers: Answer<unknown>[]): Record<string, unknown> =>
  Object.fromEntries(answers.map((a) => [a.server, 'error' in a ? { error: a.error.code, message: a.error.message } : a.value]));

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
  -e, --expires SECONDS  time to live, at most 2592000 (30 days); 0 = never (default);
                         a larger number is an absolute Unix time, and must be to come
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
  const expires = expiration('--expires', values.expires, MAX_UINT32);
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
  -e, --expires SECONDS  expiration of the item when --initial creates it (as set's)
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
    ...(values.expires === undefined ? {} : { expires: expiration('--expires', values.expires, MAX_UINT32 - 1) }),
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

/** The groups of name/value statistics memcached answers `stats GROUP` with. */
const STATS_GROUPS = ['settings', 'items', 'slabs', 'sizes', 'conns', 'extstore'];

export const STATS_HELP = `Usage: memring stats [options] [GROUP]

Prints every server's statistics ("stats" in memcached's terms), or a group of
them: ${STATS_GROUPS.join(', ')}. A server that fails is one error line on
stderr, the others' statistics are still printed, and the exit code is 1.

Options:
${SERVER_OPTIONS_HELP}

JSON: { "host:port": { name: value, ... }, ... }; a server that failed:
{ "error": "MC_ERR_...", "message": "..." }.`;

export async function stats(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand({ args, options: serverOptions, allowPositionals: true });
  if (values.help) return help(STATS_HELP);
  expectPositionals(positionals, 0, 1, 'GROUP');
  const group = positionals[0];
  if (group !== undefined && !STATS_GROUPS.includes(group)) {
    throw new UsageError(`unknown stats group "${group}"; give one of ${STATS_GROUPS.join(', ')}, or none for the general statistics`);
  }
  const answers = await eachServer('stats', values, (one) => one.stats(group));
  if (values.json) await json(answersJson(answers));
  else {
    const lines: string[] = [];
    for (const answer of answers) {
      if ('error' in answer) continue;
      lines.push(answer.server);
      const names = Object.keys(answer.value);
      const width = Math.max(0, ...names.map((n) => n.length));
      for (const name of names) lines.push(`  ${name.padEnd(width)}  ${answer.value[name]!}`);
    }
    if (lines.length > 0) await out(`${lines.join('\n')}\n`);
  }
  return failedAny(answers);
}

export const VERSION_HELP = `Usage: memring version [options]

Prints each server's memcached version. A server that fails is one error line
on stderr, the others' versions are still printed, and the exit code is 1.

Options:
${SERVER_OPTIONS_HELP}

JSON: { "host:port": "1.6.18", ... }; a server that failed:
{ "error": "MC_ERR_...", "message": "..." }.`;

export async function version(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand({ args, options: serverOptions, allowPositionals: true });
  if (values.help) return help(VERSION_HELP);
  expectPositionals(positionals, 0, 0, '');
  const answers = await eachServer('version', values, (one) => one.version());
  if (values.json) await json(answersJson(answers));
  else {
    const text = answers.map((a) => ('error' in a ? '' : `${a.server} ${a.value}\n`)).join('');
    if (text !== '') await out(text);
  }
  return failedAny(answers);
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
