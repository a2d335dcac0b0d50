// Test certificates made with openssl at test time: a CA, a server
// certificate it signs for localhost and 127.0.0.1, and a second CA that
// signed nothing (the "unknown CA").
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Certificates {
  dir: string;
  /** PEM of the CA that signed the server certificate. */
  ca: string;
  /** PEM of a CA that signed nothing here. */
  otherCa: string;
  serverCertFile: string;
  serverKeyFile: string;
}

function openssl(args: string[], cwd: string): void {
  const run = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (run.error !== undefined || run.status !== 0) {
    throw new Error(`openssl ${args[0]} failed: ${run.error?.message ?? run.stderr}`);
  }
}

let made: Certificates | undefined;

/** Makes (once per process) the CA and server certificate. */
export function certificates(): Certificates {
  if (made !== undefined) return made;
  const dir = mkdtempSync(join(tmpdir(), 'memring-tls-'));
  const days = ['-days', '2'];
  for (const name of ['ca', 'other-ca']) {
    openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.pem`, ...days, '-subj', `/CN=memring test ${name}`], dir);
  }
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost'], dir);
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', ...days, '-extfile', 'san.ext'], dir);
  made = {
    dir,
    ca: readFileSync(join(dir, 'ca.pem'), 'utf8'),
    otherCa: readFileSync(join(dir, 'other-ca.pem'), 'utf8'),
    serverCertFile: join(dir, 'server.pem'),
    serverKeyFile: join(dir, 'server.key'),
  };
  return made;
}
