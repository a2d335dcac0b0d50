// What the harnesses that start real server processes (memcached, twemproxy)
// share: a check that the program is installed, failing with how to install
// it, and a registry that kills every child the test process leaves behind.
import { spawnSync, type ChildProcess } from 'node:child_process';

const installed = new Set<string>();

/** Throws `hint` unless `program -V` runs (checked once per program). */
export function requireProgram(program: string, hint: string): void {
  if (installed.has(program)) return;
  const probe = spawnSync(program, ['-V'], { encoding: 'utf8' });
  if (probe.error !== undefined || probe.status !== 0) throw new Error(hint);
  installed.add(program);
}

const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Kills `child` when the test process exits, unless it exited first. */
export function killOnExit(child: ChildProcess): void {
  running.add(child);
  child.once('exit', () => running.delete(child));
}
