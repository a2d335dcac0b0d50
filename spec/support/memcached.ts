// Starts real memcached processes on free loopback ports for the specs, and
// makes sure none outlives the test process.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { freePort, isListening } from '../../lib/cli/loopback.js';
import { killOnExit, requireProgram } from './daemons.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export { freePort };

const INSTALL_HINT =
  'memcached is not installed (or not on PATH). The specs run against a real server: ' +
  'install it with `apt-get update && apt-get install -y memcached` (Debian/Ubuntu) ' +
  'or `brew install memcached` (macOS), then run `npm test` again.';

/** Whether every thread of the process is stopped: memcached's worker threads stop one by one. */
function allThreadsStopped(pid: number): boolean {
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    // The state letter follows the command name, which may hold spaces and parentheses.
    const stat = readFileSync(`/proc/${pid}/task/${task}/stat`, 'latin1');
    if (stat.charAt(stat.lastIndexOf(')') + 2) !== 'T') return false;
  }
  return true;
}

export interface MemcachedOptions {
  /** Extra memcached arguments, e.g. ['-I', '2m']. */
  args?: string[];
  env?: NodeJS.ProcessEnv;
  /** Reuse this port (restarts). */
  port?: number;
  /** Pin the server to this CPU (benchmarks: servers on one core, the client on the other). */
  cpu?: number;
  /** Require SASL PLAIN with this one user (memcached -S, a sasldb made by saslpasswd2). */
  sasl?: { username: string; password: string };
  /** Serve TLS only (memcached -Z) with this certificate chain and key (PEM files). */
  tls?: { certFile: string; keyFile: string };
  /** Require text-protocol authentication (memcached -Y) with this one user, written to an authfile at start. */
  authFile?: { username: string; password: string };
}

/** A SASL configuration directory holding one user; returns the env memcached needs. */
function saslConfig(username: string, password: string): NodeJS.ProcessEnv {
  const dir = mkdtempSync(join(tmpdir(), 'memring-sasl-'));
  const db = join(dir, 'memcached.sasldb');
  const made = spawnSync('saslpasswd2', ['-a', 'memcached', '-f', db, '-c', '-p', username], { input: password });
  if (made.error !== undefined || made.status !== 0) {
    throw new Error(
      'saslpasswd2 failed or is missing: install it with `apt-get install -y sasl2-bin` ' +
        `(${made.error?.message ?? made.stderr.toString()})`,
    );
  }
  writeFileSync(join(dir, 'memcached.conf'), `mech_list: plain\nsasldb_path: ${db}\n`);
  return { SASL_CONF_PATH: dir };
}

export class MemcachedServer {
  readonly host = '127.0.0.1';
  private child: ChildProcess | null = null;

  private constructor(
    readonly port: number,
    private readonly options: MemcachedOptions,
  ) {}

  /** "127.0.0.1:PORT" */
  get address(): string {
    return `${this.host}:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  static async start(options: MemcachedOptions = {}): Promise<MemcachedServer> {
    requireProgram('memcached', INSTALL_HINT);
    const server = new MemcachedServer(options.port ?? (await freePort()), options);
    await server.launch();
    return server;
  }

  private async launch(): Promise<void> {
    const args = ['-l', this.host, '-p', String(this.port), '-U', '0', '-t', '2', '-m', '64', ...(this.options.args ?? [])];
    if (process.getuid?.() === 0) args.push('-u', 'root');
    let env: NodeJS.ProcessEnv = { ...process.env, ...this.options.env };
    if (this.options.sasl !== undefined) {
      args.push('-S');
      env = { ...env, ...saslConfig(this.options.sasl.username, this.options.sasl.password) };
    }
    if (this.options.authFile !== undefined) {
      const file = join(mkdtempSync(join(tmpdir(), 'memring-auth-')), 'authfile');
      writeFileSync(file, `${this.options.authFile.username}:${this.options.authFile.password}\n`, { mode: 0o600 });
      args.push('-Y', file);
    }
    if (this.options.tls !== undefined) {
      args.push('-Z', '-o', `ssl_chain_cert=${this.options.tls.certFile},ssl_key=${this.options.tls.keyFile}`);
    }
    const [command, argv] =
      this.options.cpu === undefined ? ['memcached', args] : ['taskset', ['-c', String(this.options.cpu), 'memcached', ...args]];
    const child = spawn(command, argv, { stdio: ['ignore', 'ignore', 'pipe'], env });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    killOnExit(child);
    this.child = child;
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`memcached exited with ${child.exitCode}: ${stderr}`);
      if (await isListening(this.port)) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill('SIGKILL');
    throw new Error(`memcached did not listen on ${this.address} within 5 s: ${stderr}`);
  }

  /** Sends a signal (SIGCONT to resume, SIGKILL to crash it; use pause() to stall it). */
  signal(name: NodeJS.Signals): void {
    this.child?.kill(name);
  }

  /**
   * Stalls the server (SIGSTOP) and waits until the kernel reports it stopped.
   * kill() only queues the signal: on a loaded machine memcached can still
   * answer a request or two before it takes effect, so a spec that needs a
   * silent server waits until every thread shows state 'T' in /proc.
   */
  async pause(): Promise<void> {
    const child = this.child;
    if (child === null || child.pid === undefined) throw new Error('memcached is not running');
    child.kill('SIGSTOP');
    const deadline = Date.now() + 5000;
    while (!allThreadsStopped(child.pid)) {
      if (Date.now() > deadline) throw new Error(`memcached (pid ${child.pid}) did not stop within 5 s`);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }

  /** Kills the process and waits for it to be gone. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (child === null || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGCONT');
    child.kill(signal);
    await exited;
    this.child = null;
  }

  /** Starts again on the same port (after stop or a crash). */
  async restart(): Promise<void> {
    await this.stop();
    await this.launch();
  }
}
