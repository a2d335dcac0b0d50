// Runs the CLI as a user would, as its own process: node --import tsx
// lib/cli/main.ts ... (no build needed), from the repository root.
import { spawn, type ChildProcess } from 'node:child_process';
import { setPriority } from 'node:os';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = fileURLToPath(new URL('../../lib/cli/main.ts', import.meta.url));

export interface Result {
  code: number | null;
  stdout: string;
  stdoutBytes: Buffer;
  stderr: string;
}

export interface RunOptions {
  /** Bytes for standard input; without it stdin is an empty pipe (not a terminal). */
  input?: string | Uint8Array;
  env?: NodeJS.ProcessEnv;
}

/** The environment the specs' CLI runs in: this one, less what would change its servers or credentials. */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env['MEMCACHED_SERVERS'];
  delete env['MEMRING_PASSWORD'];
  return { ...env, ...extra };
}

export function start(args: string[], options: RunOptions = {}): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    cwd: ROOT,
    env: options.env ?? cleanEnv(),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdin!.end(options.input);
  // Benchmarks saturate a core: below normal priority, they leave the timing-sensitive specs running beside them alone.
  try {
    if (child.pid !== undefined) setPriority(child.pid, 10);
  } catch {
    // Not permitted here: run at normal priority.
  }
  return child;
}

export function finished(child: ChildProcess): Promise<Result> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout!.on('data', (d: Buffer) => out.push(d));
  child.stderr!.on('data', (d: Buffer) => err.push(d));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      const stdoutBytes = Buffer.concat(out);
      resolve({ code, stdout: stdoutBytes.toString('utf8'), stdoutBytes, stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

/** memring ARGS..., resolved when the process has exited. */
export { isListening as listening } from '../../lib/cli/loopback.js';

export function memring(args: string[], options: RunOptions = {}): Promise<Result> {
  return finished(start(args, options));
}

