// The CLI against secured memcached: TLS (memcached -Z, certificates made by
// openssl here) and authentication, SASL PLAIN over binary (-S) and text
// authentication over meta (-Y), the password read from MEMRING_PASSWORD.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { Group } from '../../lib/index.js';
import type { BenchReport } from '../../lib/cli/bench-report.js';
import { certificates } from '../support/certificates.js';
import { MemcachedServer, type MemcachedOptions } from '../support/memcached.js';
import { cleanEnv, memring } from './run.js';

const USER = 'cacheuser';
const PASSWORD = 'pa55-Secret!word';
const withPassword = (password = PASSWORD): { env: NodeJS.ProcessEnv } => ({ env: cleanEnv({ MEMRING_PASSWORD: password }) });

let counter = 0;
const fresh = (prefix: string): string => `${prefix}:${process.pid}:${counter++}`;

describe('memring --tls (memcached -Z)', () => {
  let server: MemcachedServer;
  let caFile: string;
  let otherCaFile: string;
  before(async () => {
    const certs = certificates();
    caFile = join(certs.dir, 'ca.pem');
    otherCaFile = join(certs.dir, 'other-ca-copy.pem');
    writeFileSync(otherCaFile, certs.otherCa);
    server = await MemcachedServer.start({ tls: { certFile: certs.serverCertFile, keyFile: certs.serverKeyFile } });
  });
  after(() => server.stop());

  for (const protocol of ['meta', 'binary']) {
    it(`set, get, version and stats over TLS with --tls-ca (${protocol})`, async () => {
      const key = fresh('tls');
      const tls = ['-s', server.address, '-p', protocol, '--tls-ca', caFile];
      const set = await memring(['set', ...tls, key, 'encrypted']);
      assert.equal(set.code, 0, set.stderr);
      const get = await memring(['get', ...tls, key]);
      assert.equal(get.code, 0, get.stderr);
      assert.equal(get.stdout, 'encrypted\n');
      const version = await memring(['version', ...tls, '--tls']);
      assert.equal(version.code, 0, version.stderr);
      assert.match(version.stdout, new RegExp(`^${server.address} \\d+\\.\\d+\\.\\d+`));
      const stats = await memring(['stats', ...tls, '--json']);
      assert.equal(stats.code, 0, stats.stderr);
      assert.equal((JSON.parse(stats.stdout) as Record<string, Record<string, string>>)[server.address]!['pid'], String(server.pid));
    });
  }

  it('checks the name given by --tls-servername: localhost is on the certificate, another name is MC_ERR_TLS', async () => {
    const ok = await memring(['version', '-s', server.address, '--tls-ca', caFile, '--tls-servername', 'localhost']);
    assert.equal(ok.code, 0, ok.stderr);
    const wrong = await memring(['version', '-s', server.address, '--tls-ca', caFile, '--tls-servername', 'cache.example.org']);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /^memring version: MC_ERR_TLS: .*cache\.example\.org/);
  });

  it('a CA that did not sign the certificate (or the system CAs) is MC_ERR_TLS, exit 1', async () => {
    for (const args of [['--tls'], ['--tls-ca', otherCaFile]]) {
      const r = await memring(['get', '-s', server.address, ...args, 'k']);
      assert.equal(r.code, 1, args.join(' '));
      assert.match(r.stderr, /^memring get: MC_ERR_TLS: TLS handshake failed/);
    }
  });

  it('bench runs over TLS', async () => {
    const r = await memring(['bench', '-s', server.address, '--tls-ca', caFile, '--ops', '500', '-c', '8', '--keys', '50', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as BenchReport;
    assert.equal(report.ops, 500);
    assert.equal(report.failed, 0);
  });
});

const AUTH: Record<'binary' | 'meta', { name: string; server: MemcachedOptions }> = {
  binary: { name: 'SASL PLAIN, memcached -S', server: { sasl: { username: USER, password: PASSWORD } } },
  meta: { name: 'text authentication, memcached -Y', server: { authFile: { username: USER, password: PASSWORD } } },
};

for (const protocol of ['binary', 'meta'] as const) {
  describe(`memring --sasl-user with MEMRING_PASSWORD (${protocol}: ${AUTH[protocol].name})`, () => {
    let server: MemcachedServer;
    let admin: Group;
    before(async () => {
      server = await MemcachedServer.start(AUTH[protocol].server);
      admin = new Group([server.address], { protocol, sasl: { username: USER, password: PASSWORD } });
    });
    after(async () => {
      await admin.close();
      await server.stop();
    });
    const auth = ['-p', protocol, '--sasl-user', USER];

    it('set, get, incr, delete, version, stats and flush authenticate', async () => {
      const key = fresh('sasl');
      const set = await memring(['set', '-s', server.address, ...auth, key, 'authenticated'], withPassword());
      assert.equal(set.code, 0, set.stderr);
      assert.equal((await admin.get(key))?.text, 'authenticated');
      const get = await memring(['get', '-s', server.address, ...auth, key], withPassword());
      assert.equal(get.stdout, 'authenticated\n');
      const count = await memring(['incr', '-s', server.address, ...auth, fresh('sasl-counter'), '-i', '7'], withPassword());
      assert.equal(count.stdout, '7\n');
      assert.equal((await memring(['delete', '-s', server.address, ...auth, key], withPassword())).code, 0);
      for (const command of ['version', 'stats', 'flush']) {
        const r = await memring([command, '-s', server.address, ...auth], withPassword());
        assert.equal(r.code, 0, `${command}: ${r.stderr}`);
      }
    });

    it('a wrong password is MC_ERR_AUTH, exit 1, and neither password appears anywhere', async () => {
      const wrong = 'not-the-Secret-42';
      const r = await memring(['get', '-s', server.address, ...auth, 'k'], withPassword(wrong));
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^memring get: MC_ERR_AUTH: .*"cacheuser"/);
      const version = await memring(['version', '-s', server.address, ...auth, '--json'], withPassword(wrong));
      assert.equal(version.code, 1);
      for (const text of [r.stdout, r.stderr, version.stdout, version.stderr]) {
        assert.ok(!text.includes(wrong) && !text.includes(PASSWORD), text);
      }
    });

    it('without --sasl-user the server refuses: MC_ERR_AUTH (or its protocol hint), exit 1', async () => {
      const r = await memring(['get', '-s', server.address, '-p', protocol, '--timeout', '2000', 'k'], withPassword());
      assert.equal(r.code, 1);
      assert.match(r.stderr, /MC_ERR_(AUTH|PROTOCOL|CONN_CLOSED|TIMEOUT)/);
    });

    it('bench authenticates', async () => {
      const r = await memring(['bench', '-s', server.address, ...auth, '--ops', '500', '-c', '8', '--keys', '50', '--json'], withPassword());
      assert.equal(r.code, 0, r.stderr);
      assert.equal((JSON.parse(r.stdout) as BenchReport).failed, 0);
    });
  });
}
