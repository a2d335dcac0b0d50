/**
 * The memcached that `memring bench` starts when no --servers are given: on
 * a free port of 127.0.0.1, stopped afterwards, and killed if memring exits
 * any other way.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { freePort, isListening } from './loopback.js';

export const INSTALL_HINT =
  'memcached is not installed (or not on PATH). Install it with `apt-get install -y memcached` ' +
  '(Debian/Ubuntu; sudo if you are not root) or `brew install memcached` (macOS), ' +
  'or point memring at running servers with --servers host:port.';

/** Not being able to start the local server: an operation failure (exit 1), not a usage error. */
export class LocalServerError extends Error {
  override readonly name = 'LocalServerError';
}



export class LocalMemcached {
  private constructor(
    readonly port: number,
    private readonly child: ChildProcess,
    /** memcached's own version line, e.g. "memcached 1.6.18". */
    readonly version: string,
  ) {}

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Starts memcached (64 MiB, no UDP) and resolves once it accepts connections. */
  static async start(): Promise<LocalMemcached> {
    const probe = spawnSync('memcached', ['-V'], { encoding: 'utf8' });
    if (probe.error !== undefined || probe.status !== 0) throw new LocalServerError(INSTALL_HINT);
    const version = probe.stdout.trim();
    // The port is free when checked and taken a moment later; another process may win it: retry.
    let lastError = '';
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = await freePort();
      const args = ['-l', '127.0.0.1', '-p', String(port), '-U', '0', '-m', '64'];
      // memcached refuses to run as root without -u.
      if (process.getuid?.() === 0) args.push('-u', 'root');
      const child = spawn('memcached', args, { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
      const kill = (): void => {
        child.kill('SIGKILL');
      };
      process.once('exit', kill);
      child.once('exit', () => process.removeListener('exit', kill));
      const deadline = Date.now() + 5000;
      while (Date.now() < deadline && child.exitCode === null && child.signalCode === null) {
        if (await isListening(port)) return new LocalMemcached(port, child, version);
        await new Promise((r) => setTimeout(r, 20));
      }
      child.kill('SIGKILL');
      lastError = stderr.trim() || 'it did not listen within 5 s';
    }
    throw new LocalServerError(`could not start memcached on 127.0.0.1: ${lastError}`);
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Stops the server and waits for the process to be gone. */
  async stop(): Promise<void> {
    if (!this.running) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 2000);
    await exited;
    clearTimeout(timer);
  }
}
