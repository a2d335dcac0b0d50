// The package entry under the `workerd` and `worker` conditions (lib/workers.ts).
// It runs here under Node as well: only its transport needs workerd, and that
// is exercised in workerd itself by spec/runtimes.test.ts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as main from '../../lib/index.js';
import * as workers from '../../lib/workers.js';

const servers = (n: number): string[] => Array.from({ length: n }, (_, i) => `127.0.0.1:${21000 + i}`);

describe('workerd entry: a Group fits in one request', () => {
  it('accepts up to 6 sockets: servers × connections', async () => {
    for (const [count, connections] of [[1, 1], [6, 1], [3, 2], [2, 3], [1, 6]] as const) {
      const group = new workers.Group(servers(count), { connections });
      assert.equal(group.serverNames.length, count);
      await group.close();
    }
  });

  it('refuses more with MC_ERR_BAD_CONFIG, naming the count, before any socket is opened', () => {
    for (const [count, connections] of [[7, 1], [4, 2], [1, 7]] as const) {
      assert.throws(() => new workers.Group(servers(count), { connections }), (error: unknown) => {
        assert.ok(error instanceof main.MemcacheError);
        assert.equal(error.code, 'MC_ERR_BAD_CONFIG');
        assert.match(error.message, new RegExp(`${count * connections} sockets; a Workers request may hold at most 6`));
        return true;
      });
    }
  });

  it('checks the options the Node build checks first (their own errors)', () => {
    assert.throws(() => new workers.Group(servers(1), { connections: 0 }), { code: 'MC_ERR_BAD_ARGUMENT' });
    assert.throws(() => new workers.Group([]), { code: 'MC_ERR_BAD_CONFIG', message: /at least one server/ });
  });

  it('refuses TLS settings Workers cannot honour with MC_ERR_BAD_CONFIG, at construction', () => {
    const refused: [object, RegExp][] = [
      [{ ca: 'pem' }, /cannot honour ca$/],
      [{ cert: 'pem', key: 'S3CRETKEY' }, /cannot honour cert, key$/],
      [{ servername: 'other.example' }, /cannot honour servername$/],
      [{ rejectUnauthorized: false }, /cannot honour rejectUnauthorized: false$/],
    ];
    for (const [tls, pattern] of refused) {
      assert.throws(() => new workers.Group(servers(1), { tls }), (error: unknown) => {
        assert.ok(error instanceof main.MemcacheError);
        assert.equal(error.code, 'MC_ERR_BAD_CONFIG');
        assert.match(error.message, pattern);
        assert.ok(!error.message.includes('S3CRET'));
        return true;
      });
    }
  });

  it('accepts the TLS Workers gives: true, {}, the host as servername, rejectUnauthorized: true', async () => {
    for (const tls of [true, {}, { servername: '127.0.0.1' }, { rejectUnauthorized: true }] as const) {
      await new workers.Group(servers(2), { tls }).close();
    }
  });

  it('exports everything the main entry does; its Group is a Group', () => {
    assert.deepEqual(Object.keys(workers).sort(), Object.keys(main).sort());
    const group = new workers.Group(servers(1));
    assert.ok(group instanceof main.Group);
    void group.close();
  });
});
