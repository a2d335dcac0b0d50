#!/usr/bin/env node
/**
 * memring's command line: `memring <command> [options]`. Exit codes: 0 ok,
 * 1 an operation failed (server down, timeout...), 2 usage error, 3 not found,
 * 130 interrupted. Errors are one line on stderr, with the MemcacheError code.
 */
import { readFileSync } from 'node:fs';
import { ErrorCode, isMemcacheError } from '../errors.js';
import { Exit, UsageError, out } from './args.js';
import { BENCH_HELP, bench } from './bench.js';
import {
  DECR_HELP,
  DELETE_HELP,
  FLUSH_HELP,
  GET_HELP,
  INCR_HELP,
  SET_HELP,
  STATS_HELP,
  VERSION_HELP,
  counter,
  del,
  flush,
  get,
  set,
  stats,
  version,
} from './commands.js';
import { LocalServerError } from './local-memcached.js';
import { RING_HELP, ring } from './ring.js';

const COMMANDS: Record<string, { run: (args: string[]) => Promise<number>; help: string; summary: string }> = {
  bench: { run: bench, help: BENCH_HELP, summary: 'measure throughput and latency (starts its own memcached if no --servers)' },
  ring: { run: ring, help: RING_HELP, summary: 'show which server each key goes to, and what adding or removing one moves' },
  get: { run: get, help: GET_HELP, summary: 'print the value of a key' },
  set: { run: set, help: SET_HELP, summary: 'store a value (argument or standard input)' },
  delete: { run: del, help: DELETE_HELP, summary: 'delete keys' },
  incr: { run: (args) => counter('incr', args), help: INCR_HELP, summary: 'add to a counter' },
  decr: { run: (args) => counter('decr', args), help: DECR_HELP, summary: 'subtract from a counter' },
  stats: { run: stats, help: STATS_HELP, summary: "print every server's statistics" },
  version: { run: version, help: VERSION_HELP, summary: "print every server's memcached version" },
  flush: { run: flush, help: FLUSH_HELP, summary: 'invalidate every item on every server' },
};

const HELP = `Usage: memring <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(9)}${c.summary}`)
  .join('\n')}

Every command takes --help. Servers are given as --servers host:port,host:port
(default 127.0.0.1:11211).

Exit codes: 0 ok; 1 an operation failed (server down, timeout, error reply);
2 usage error (unknown option, bad value, bad key); 3 not found (get, delete,
incr/decr of a missing key); 130 interrupted.

memring --version prints memring's version.`;

// Codes that mean the command line itself was wrong (a bad key, server or number), not the servers.
const USAGE_CODES: ReadonlySet<string> = new Set([
  ErrorCode.BAD_KEY,
  ErrorCode.BAD_VALUE,
  ErrorCode.BAD_ARGUMENT,
  ErrorCode.BAD_SERVER,
  ErrorCode.BAD_CONFIG,
]);

function packageVersion(): string {
  // lib/cli/main.ts and dist/cli/main.js both sit two levels below package.json.
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined) {
    process.stderr.write(`${HELP}\n`);
    return Exit.USAGE;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' ? args[0] : undefined;
    const command = topic === undefined ? undefined : COMMANDS[topic];
    if (topic !== undefined && command === undefined) {
      process.stderr.write(`memring: unknown command "${topic}"\n`);
      return Exit.USAGE;
    }
    await out(`${command?.help ?? HELP}\n`);
    return Exit.OK;
  }
  if (name === '--version' || name === '-v') {
    await out(`${packageVersion()}\n`);
    return Exit.OK;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (command === undefined) {
    process.stderr.write(`memring: unknown command "${name}"; run "memring --help" for the list\n`);
    return Exit.USAGE;
  }
  try {
    return await command.run(args);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`memring ${name}: ${error.message}\nRun "memring ${name} --help" for usage.\n`);
      return Exit.USAGE;
    }
    if (isMemcacheError(error)) {
      process.stderr.write(`memring ${name}: ${error.code}: ${error.message}\n`);
      return USAGE_CODES.has(error.code) ? Exit.USAGE : Exit.FAILED;
    }
    if (error instanceof LocalServerError) {
      process.stderr.write(`memring ${name}: ${error.message}\n`);
      return Exit.FAILED;
    }
    process.stderr.write(`memring ${name}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return Exit.FAILED;
  }
}

const code = await main(process.argv.slice(2));
// Exit explicitly, so nothing left behind keeps the process; once both streams have flushed (pipes may be asynchronous).
const flushed = (stream: NodeJS.WriteStream): Promise<void> => new Promise((resolve) => stream.write('', () => resolve()));
await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
process.exit(code);
