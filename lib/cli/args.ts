/**
 * What every command shares: argument parsing with node:util's parseArgs,
 * usage errors (exit 2), the exit codes, and the options that name servers.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { parseServer } from '../hash/server.js';
import type { Distribution } from '../hash/ring.js';

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
const DISTRIBUTIONS: readonly Distribution[] = ['ketama', 'libmemcached-consistent', 'modula'];

/**
 * parseArgs, with its errors turned into usage errors, and one leniency:
 * an argument of one dash followed by something that is not a short option
 * of the command (`-0_abc`, `-5`, `-x`) is a positional argument, as keys
 * and numbers may begin with "-". Anything after `--` is positional too.
 */
export function parseCommand<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs({ ...config, args: dashesAsPositionals(config.args ?? [], config.options ?? {}) } as T);
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/\s*\n\s*/g, ' '));
  }
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

/** `a:1,b:2` → ['a:1', 'b:2'], each checked (`host`, `host:port`, `host:port:weight`, `[v6]:port`). */
export function serverList(text: string | undefined, option = '--servers'): string[] {
  if (text === undefined) return [DEFAULT_SERVER];
  const servers = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
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

export const PROTOCOLS = ['meta', 'binary'] as const;
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

/** Positional arguments count check. */
export function expectPositionals(positionals: string[], min: number, max: number, what: string): void {
  if (positionals.length < min) throw new UsageError(`missing ${what}`);
  if (positionals.length > max) throw new UsageError(`unexpected argument "${positionals[max]!}"`);
}

/** Options every server command takes. */
export const serverOptions = {
  servers: { type: 'string', short: 's' },
  distribution: { type: 'string', short: 'd' },
  protocol: { type: 'string', short: 'p' },
  timeout: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const SERVER_OPTIONS_HELP = `  -s, --servers LIST     comma-separated host:port list (default ${DEFAULT_SERVER});
                         host:port:weight for ketama weights, [v6addr]:port for IPv6
  -d, --distribution D   ketama (default), libmemcached-consistent or modula
  -p, --protocol P       meta (default) or binary
      --timeout MS       per-operation timeout in milliseconds (default 1000)
      --json             print the result as JSON
  -h, --help             this help`;

/** Writes to stdout and resolves once the bytes are handed over (pipes can be asynchronous). */
export function out(text: string | Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => process.stdout.write(text, (error) => (error ? reject(error) : resolve())));
}
