/**
 * What every command shares: argument parsing with node:util's parseArgs,
 * usage errors (exit 2), the exit codes, and the options that name servers
 * and how to reach them (TLS, authentication).
 */
import { readFileSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { GroupOptions } from '../group-options.js';
import { parseServer } from '../hash/server.js';
import { isKeyHash, KEY_HASHES, type KeyHash } from '../hash/key-hash.js';
import type { Distribution } from '../hash/ring.js';
import type { TlsOptions } from '../net/transport.js';

/** Exit codes, documented in the README ("Command line"). */
export const Exit = {
  OK: 0,
  /** An operation failed: server down, timeout, error status... */
  FAILED: 1,
  /** Bad command line: unknown option, bad number, bad server, bad key. */
  USAGE: 2,
  /** The key was not there: get miss, delete or incr/decr of a missing key. */
  NOT_FOUND: 3,
  /** Stopped by SIGINT/SIGTERM. */
  INTERRUPTED: 130,
} as const;

/** A mistake in the command line; main prints it with a pointer to --help and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const DEFAULT_SERVER = '127.0.0.1:11211';
/** Read when --servers is absent, as libmemcached's tools (memcp, memstat...) read it. */
export const SERVERS_ENV = 'MEMCACHED_SERVERS';
/** The SASL password: an environment variable, so it never shows in `ps` or a shell's history. */
export const PASSWORD_ENV = 'MEMRING_PASSWORD';
const DISTRIBUTIONS: readonly Distribution[] = ['ketama', 'libmemcached-consistent', 'modula'];

/**
 * parseArgs, with its errors turned into usage errors, and one leniency:
 * an argument of one dash followed by something that is not a short option
 * of the command (`-0_abc`, `-5`, `-x`) is a positional argument, as keys
 * and numbers may begin with "-". Anything after `--` is positional too.
 */
export function parseCommand<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  const args = dashesAsPositionals(config.args ?? [], config.options ?? {});
  try {
    return parseArgs({ ...config, args } as T);
  } catch (error) {
    throw new UsageError(reworded(error as Error & { code?: string }, args, config.options ?? {}));
  }
}

/** parseArgs's messages (written for programmers, with quoting advice) in the voice of the other usage errors. */
function reworded(
  error: Error & { code?: string },
  args: readonly string[],
  options: NonNullable<ParseArgsConfig['options']>,
): string {
  const { message } = error;
  if (error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const raw = /^Unknown option '(.*?)'(?:\.|$)/.exec(message)?.[1] ?? '?';
    return `unknown option ${raw} (an argument that begins with "-" but is not an option goes after "--")`;
  }
  if (error.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    // "Option '-s, --servers <value>' ...", "Option '-s' ...", "Option '--json' ...": the option as written.
    const raw = /^Option '(-\w|--[^ ']+)/.exec(message)?.[1];
    const long = raw?.startsWith('--') ? raw.slice(2) : Object.keys(options).find((n) => options[n]!.short === raw?.slice(1));
    const name = long === undefined ? 'an option' : `--${long}`;
    if (/does not take an argument/.test(message)) return `${name} takes no value`;
    if (/argument is ambiguous/.test(message)) {
      // The value refused is the argument after the option as written; "--" is where the positionals begin.
      const at = raw === undefined ? -1 : args.indexOf(raw);
      const value = at >= 0 ? args[at + 1] : undefined;
      if (value !== undefined && value !== '--') {
        return `${name} needs a value, and ${value} looks like an option; if it is the value, write ${name}=${value}`;
      }
    }
    return `${name} needs a value`;
  }
  if (error.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
    const arg = /^Unexpected argument '(.*?)'/.exec(message)?.[1];
    return arg === undefined ? 'unexpected argument' : `unexpected argument "${arg}"`;
  }
  // Anything else parseArgs says: one line, lower case, without its advice on quoting.
  const first = message.split('\n')[0]!.replace(/\.$/, '');
  return first.charAt(0).toLowerCase() + first.slice(1);
}

function dashesAsPositionals(args: readonly string[], options: NonNullable<ParseArgsConfig['options']>): string[] {
  const shorts = new Map<string, string>();
  for (const spec of Object.values(options)) if (spec.short !== undefined) shorts.set(spec.short, spec.type);
  const longs = new Map(Object.entries(options).map(([name, spec]) => [name, spec.type]));
  const flags: string[] = [];
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (arg.startsWith('--')) {
      flags.push(arg);
      // A value given as the next argument stays with its option.
      if (!arg.includes('=') && longs.get(arg.slice(2)) === 'string' && i + 1 < args.length) flags.push(args[++i]!);
    } else if (arg.length > 1 && arg.startsWith('-') && shorts.has(arg[1]!)) {
      flags.push(arg);
      if (arg.length === 2 && shorts.get(arg[1]!) === 'string' && i + 1 < args.length) flags.push(args[++i]!);
    } else {
      positionals.push(arg);
    }
  }
  return positionals.length === 0 ? flags : [...flags, '--', ...positionals];
}

/**
 * `a:1,b:2` (or `a:1 b:2`, as libmemcached reads MEMCACHED_SERVERS) → ['a:1', 'b:2'], each checked
 * (`host`, `host:port`, `host:port:weight`, `[v6]:port`). Without --servers: $MEMCACHED_SERVERS, else
 * 127.0.0.1:11211.
 */
export function serverList(text: string | undefined, option = '--servers'): string[] {
  return configuredServers(text, option) ?? [DEFAULT_SERVER];
}

/** The servers named by --servers or $MEMCACHED_SERVERS; undefined when neither names any. */
export function configuredServers(text: string | undefined, option = '--servers'): string[] | undefined {
  if (text === undefined) {
    const fromEnv = process.env[SERVERS_ENV];
    if (fromEnv === undefined || fromEnv.trim() === '') return undefined;
    return splitServers(fromEnv, SERVERS_ENV);
  }
  return splitServers(text, option);
}

function splitServers(text: string, option: string): string[] {
  const servers = text.split(/[\s,]+/).filter((s) => s !== '');
  if (servers.length === 0) throw new UsageError(`${option} needs at least one host:port`);
  for (const server of servers) checkServer(server, option);
  return servers;
}

export function checkServer(server: string, option: string): string {
  try {
    parseServer(server);
  } catch (error) {
    throw new UsageError(`${option}: ${(error as Error).message}`);
  }
  return server;
}

export function distribution(text: string | undefined): Distribution {
  if (text === undefined) return 'ketama';
  if (!(DISTRIBUTIONS as readonly string[]).includes(text)) {
    throw new UsageError(`--distribution must be one of ${DISTRIBUTIONS.join(', ')}, got "${text}"`);
  }
  return text as Distribution;
}

/** `--hash`: undefined when not given, so the distribution's own default applies. */
export function keyHash(text: string | undefined): KeyHash | undefined {
  if (text === undefined) return undefined;
  if (!isKeyHash(text)) throw new UsageError(`--hash must be one of ${KEY_HASHES.join(', ')}, got "${text}"`);
  return text;
}

/** `--hash`'s help line, shared by the commands that take it. */
export const HASH_HELP = `      --hash H           key hash: one-at-a-time (default; md5 with ketama), md5, crc
                         (python-memcache's, with modula), fnv1_64, fnv1a_64, fnv1_32,
                         fnv1a_32, hsieh, murmur or jenkins: libmemcached's OPT_HASH`;

export const PROTOCOLS = ['meta', 'binary', 'text'] as const;
export type CliProtocol = (typeof PROTOCOLS)[number];

export function protocol(text: string | undefined): CliProtocol {
  if (text === undefined) return 'meta';
  if (!(PROTOCOLS as readonly string[]).includes(text)) {
    throw new UsageError(`--protocol must be one of ${PROTOCOLS.join(', ')}, got "${text}"`);
  }
  return text as CliProtocol;
}

/** An integer option from `min` to `max`; `fallback` when absent. */
export function integer(name: string, text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  const value = /^[+]?\d+$/.test(text.trim()) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(`${name} must be an integer from ${min} to ${max}, got "${text}"`);
  }
  return value;
}

/** A positive number (fractions allowed), e.g. seconds. */
export function positiveNumber(name: string, text: string | undefined, fallback: number, max: number): number {
  if (text === undefined) return fallback;
  const value = /^\d*\.?\d+$/.test(text.trim()) ? Number(text) : NaN;
  if (!(value > 0) || value > max) throw new UsageError(`${name} must be a number above 0 and at most ${max}, got "${text}"`);
  return value;
}

/** memcached reads an expiration over 30 days as a Unix time, not a number of seconds. */
export const MAX_RELATIVE_EXPIRATION = 2_592_000;

/**
 * An expiration in seconds (0 to 2592000) or an absolute Unix time. A number of
 * seconds over 30 days would be read as a time in 1970, and the item would be
 * gone at once: refused, unless it is a time still to come.
 */
export function expiration(name: string, text: string | undefined, max: number): number {
  const value = integer(name, text, 0, 0, max);
  if (value > MAX_RELATIVE_EXPIRATION && value <= Date.now() / 1000) {
    const when = new Date(value * 1000).toISOString().slice(0, 10);
    throw new UsageError(
      `${name} ${value} is over 30 days, so memcached would read it as a Unix time (${when}, already past) ` +
        `and the item would be gone at once; give at most ${MAX_RELATIVE_EXPIRATION} seconds, or an absolute ` +
        `Unix time to come (e.g. $(date -d '+60 days' +%s))`,
    );
  }
  return value;
}

/** Positional arguments count check. */
export function expectPositionals(positionals: string[], min: number, max: number, what: string): void {
  if (positionals.length < min) throw new UsageError(`missing ${what}`);
  if (positionals.length > max) throw new UsageError(`unexpected argument "${positionals[max]!}"`);
}

/** How to reach the servers: TLS and authentication (every command that talks to servers, bench included). */
export const securityOptions = {
  tls: { type: 'boolean' },
  'tls-ca': { type: 'string' },
  'tls-servername': { type: 'string' },
  'sasl-user': { type: 'string' },
} as const;

type SecurityValues = { tls?: boolean; 'tls-ca'?: string; 'tls-servername'?: string; 'sasl-user'?: string };

/** Whether the command line asks for TLS or authentication. */
export function wantsSecurity(values: SecurityValues): boolean {
  return values.tls === true || values['tls-ca'] !== undefined || values['tls-servername'] !== undefined || values['sasl-user'] !== undefined;
}

/** The Group's `tls` and `sasl` from --tls, --tls-ca, --tls-servername, --sasl-user and $MEMRING_PASSWORD. */
export function security(values: SecurityValues): Pick<GroupOptions, 'tls' | 'sasl'> {
  const result: Pick<GroupOptions, 'tls' | 'sasl'> = {};
  const caFile = values['tls-ca'];
  const servername = values['tls-servername'];
  if (values.tls === true || caFile !== undefined || servername !== undefined) {
    const tls: TlsOptions = {};
    if (caFile !== undefined) {
      let ca: string;
      try {
        ca = readFileSync(caFile, 'utf8');
      } catch (error) {
        throw new UsageError(`--tls-ca ${caFile}: cannot read it (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
      }
      if (!ca.includes('-----BEGIN CERTIFICATE-----')) throw new UsageError(`--tls-ca ${caFile}: no PEM certificate in it`);
      tls.ca = ca;
    }
    if (servername !== undefined) {
      if (servername.trim() === '') throw new UsageError('--tls-servername needs a name');
      tls.servername = servername;
    }
    result.tls = caFile === undefined && servername === undefined ? true : tls;
  }
  const username = values['sasl-user'];
  if (username !== undefined) {
    if (username === '') throw new UsageError('--sasl-user needs a user name');
    const password = process.env[PASSWORD_ENV];
    if (password === undefined || password === '') {
      throw new UsageError(`--sasl-user needs the password in the ${PASSWORD_ENV} environment variable (it is never taken on the command line)`);
    }
    result.sasl = { username, password };
  }
  return result;
}

/** Options every server command takes. */
export const serverOptions = {
  servers: { type: 'string', short: 's' },
  distribution: { type: 'string', short: 'd' },
  hash: { type: 'string' },
  protocol: { type: 'string', short: 'p' },
  timeout: { type: 'string' },
  ...securityOptions,
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const SECURITY_OPTIONS_HELP = `      --tls              connect with TLS (memcached -Z), the certificate verified
                         against the system's CAs and the host name or address
      --tls-ca FILE      verify against this CA (PEM) instead; implies --tls
      --tls-servername N the name the certificate must carry (default: the host); implies --tls
      --sasl-user USER   authenticate as USER: SASL PLAIN with -p binary (memcached -S),
                         text authentication with meta (memcached -Y); the password is
                         read from $${PASSWORD_ENV}, never from the command line`;

export const SERVER_OPTIONS_HELP = `  -s, --servers LIST     host:port list, comma- or space-separated (default $${SERVERS_ENV},
                         else ${DEFAULT_SERVER}); host:port:weight for ketama weights,
                         [v6addr]:port for IPv6
  -d, --distribution D   ketama (default), libmemcached-consistent or modula
${HASH_HELP}
  -p, --protocol P       meta (default), binary or text (the classic protocol: twemproxy,
                         mcrouter, any memcached)
      --timeout MS       per-operation timeout in milliseconds (default 1000)
${SECURITY_OPTIONS_HELP}
      --json             print the result as JSON
  -h, --help             this help`;

/** Writes to stdout and resolves once the bytes are handed over (pipes can be asynchronous). */
export function out(text: string | Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => process.stdout.write(text, (error) => (error ? reject(error) : resolve())));
}
