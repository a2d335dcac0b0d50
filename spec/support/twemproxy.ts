// Starts a real twemproxy (nutcracker) on free loopback ports in front of
// servers the spec names, with a config written at start, and makes sure
// none outlives the test process.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, isListening } from '../../lib/cli/loopback.js';
import { killOnExit, requireProgram } from './daemons.js';

const INSTALL_HINT =
  'twemproxy (nutcracker) is not installed (or not on PATH). The proxy specs run against a real one: ' +
  'install it with `apt-get update && apt-get install -y nutcracker` (Debian/Ubuntu), then run the specs again.';

export interface TwemproxyBackend {
  /** host:port of a memcached. */
  address: string;
  /** Default 1. */
  weight?: number;
  /** The name twemproxy's ketama hashes instead of host:port (the server line's last field). */
  name?: string;
}

export interface TwemproxyOptions {
  backends: TwemproxyBackend[];
  /** Default `md5`. */
  hash?: string;
  /** Default `ketama`. */
  distribution?: string;
  /** Milliseconds twemproxy waits for a backend. Default 2000. */
  timeout?: number;
  /** Default false: a dead backend's keys fail instead of moving. */
  autoEject?: boolean;
}

export class Twemproxy {
  readonly host = '127.0.0.1';
  private child: ChildProcess | null = null;

  private constructor(
    readonly port: number,
    readonly statsPort: number,
    private readonly dir: string,
  ) {}

  /** "127.0.0.1:PORT" */
  get address(): string {
    return `${this.host}:${this.port}`;
  }

  static async start(options: TwemproxyOptions): Promise<Twemproxy> {
    requireProgram('nutcracker', INSTALL_HINT);
    const dir = mkdtempSync(join(tmpdir(), 'memring-twemproxy-'));
    const proxy = new Twemproxy(await freePort(), await freePort(), dir);
    const servers = options.backends.map((b) => `    - ${b.address}:${b.weight ?? 1}${b.name === undefined ? '' : ` ${b.name}`}`);
    const config = [
      'memring:',
      `  listen: 127.0.0.1:${proxy.port}`,
      `  hash: ${options.hash ?? 'md5'}`,
      `  distribution: ${options.distribution ?? 'ketama'}`,
      `  timeout: ${options.timeout ?? 2000}`,
      `  auto_eject_hosts: ${options.autoEject ?? false}`,
      '  server_retry_timeout: 500',
      '  server_failure_limit: 1',
      '  servers:',
      ...servers,
      '',
    ].join('\n');
    writeFileSync(join(dir, 'nutcracker.yml'), config);
    await proxy.launch();
    return proxy;
  }

  private async launch(): Promise<void> {
    const args = [
      '-c', join(this.dir, 'nutcracker.yml'),
      // Its stats listener defaults to every interface: loopback only.
      '-s', String(this.statsPort), '-a', '127.0.0.1',
      '-o', join(this.dir, 'nutcracker.log'),
      '-p', join(this.dir, 'nutcracker.pid'),
      '-v', '4',
    ];
    const child = spawn('nutcracker', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    killOnExit(child);
    this.child = child;
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`nutcracker exited with ${child.exitCode}: ${stderr}${this.log()}`);
      if (await isListening(this.port)) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill('SIGKILL');
    throw new Error(`nutcracker did not listen on ${this.address} within 5 s: ${stderr}${this.log()}`);
  }

  /** Its log, for failure messages. */
  log(): string {
    try {
      return readFileSync(join(this.dir, 'nutcracker.log'), 'utf8');
    } catch {
      return '';
    }
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child === null || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    await exited;
    this.child = null;
  }
}
