import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { labelPrefix, parseServer, toServer } from '../../lib/hash/server.js';
import { ErrorCode, MemcacheError } from '../../lib/errors.js';

function throwsCode(fn: () => unknown, code: ErrorCode): void {
  assert.throws(fn, (error: unknown) => error instanceof MemcacheError && error.code === code);
}

describe('parseServer: host:port strings', () => {
  it('reads host and port, defaulting the port to 11211 and the weight to 1', () => {
    assert.deepEqual(parseServer('cache-1.localhost:11311'), {
      host: 'cache-1.localhost',
      port: 11311,
      weight: 1,
      address: 'cache-1.localhost:11311',
    });
    assert.deepEqual(parseServer('127.0.0.7'), { host: '127.0.0.7', port: 11211, weight: 1, address: '127.0.0.7:11211' });
  });

  it('reads the libmemcached and pylibmc "host:port:weight" form', () => {
    assert.deepEqual(parseServer('127.0.0.7:11211:3'), { host: '127.0.0.7', port: 11211, weight: 3, address: '127.0.0.7:11211' });
  });

  it('reads bracketed IPv6 addresses and keeps the host without brackets', () => {
    assert.deepEqual(parseServer('[::1]:11212'), { host: '::1', port: 11212, weight: 1, address: '[::1]:11212' });
    assert.deepEqual(parseServer('[0:0:0:0:0:0:0:1]'), { host: '0:0:0:0:0:0:0:1', port: 11211, weight: 1, address: '[0:0:0:0:0:0:0:1]:11211' });
    assert.equal(parseServer('[::1%lo]:5000:2').weight, 2);
  });

  it('rejects what it cannot parse with MC_ERR_BAD_SERVER', () => {
    for (const bad of ['', ':11211', 'host:', 'host:abc', 'host:-1', 'host:1.5', ' host:1', 'host :1', 'a/b:1', '::1',
      '0:0:0:0:0:0:0:1:11211', '[::1', '[::1]11211', '[]:1', 'a:1:2:3', '[host:name]:1']) {
      throwsCode(() => parseServer(bad), ErrorCode.BAD_SERVER);
    }
  });

  it('rejects a spec that is not a string with MC_ERR_BAD_SERVER', () => {
    for (const bad of [42, null, undefined]) throwsCode(() => parseServer(bad as never), ErrorCode.BAD_SERVER);
  });

  it('rejects ports outside 1-65535 with MC_ERR_BAD_SERVER', () => {
    for (const bad of ['host:0', 'host:65536', 'host:99999999999']) throwsCode(() => parseServer(bad), ErrorCode.BAD_SERVER);
    assert.equal(parseServer('host:65535').port, 65535);
    assert.equal(parseServer('host:1').port, 1);
  });

  it('rejects a weight that is not a positive integer with MC_ERR_BAD_CONFIG', () => {
    for (const bad of ['host:1:0', 'host:1:x', 'host:1:', 'host:1:4294967296']) {
      throwsCode(() => parseServer(bad), ErrorCode.BAD_CONFIG);
    }
  });
});

describe('toServer: object specs', () => {
  it('fills in port 11211 and weight 1', () => {
    assert.deepEqual(toServer({ host: 'a' }), { host: 'a', port: 11211, weight: 1, address: 'a:11211' });
    assert.deepEqual(toServer({ host: 'a', port: 1, weight: 9 }), { host: 'a', port: 1, weight: 9, address: 'a:1' });
  });

  it('takes an IPv6 host with or without brackets', () => {
    assert.equal(toServer({ host: '::1', port: 5 }).address, '[::1]:5');
    assert.equal(toServer({ host: '[::1]', port: 5 }).host, '::1');
  });

  it('rejects a bad host or port with MC_ERR_BAD_SERVER', () => {
    const bad: unknown[] = [
      null,
      42,
      {},
      { host: '' },
      { host: 'cache:11211' },
      { host: 'a', port: 0 },
      { host: 'a', port: 70000 },
      { host: 'a', port: '11211' },
      { host: 'a', port: 1.5 },
    ];
    for (const spec of bad) throwsCode(() => toServer(spec as never), ErrorCode.BAD_SERVER);
  });

  it('rejects a zero, negative, fractional or non-number weight with MC_ERR_BAD_CONFIG', () => {
    for (const weight of [0, -1, 1.5, NaN, Infinity, '2']) {
      throwsCode(() => toServer({ host: 'a', weight } as never), ErrorCode.BAD_CONFIG);
    }
  });
});

describe('labelPrefix: the text libmemcached hashes for a server', () => {
  it('is the host alone on port 11211 and host:port otherwise, the host as configured', () => {
    assert.equal(labelPrefix(parseServer('Cache-1.Example.com')), 'Cache-1.Example.com');
    assert.equal(labelPrefix(parseServer('127.0.0.1:11211')), '127.0.0.1');
    assert.equal(labelPrefix(parseServer('127.0.0.1:31001')), '127.0.0.1:31001');
  });

  it('writes an IPv6 host without brackets, as libmemcached stores it', () => {
    assert.equal(labelPrefix(parseServer('[::1]')), '::1');
    assert.equal(labelPrefix(parseServer('[::1]:11212')), '::1:11212');
  });
});
