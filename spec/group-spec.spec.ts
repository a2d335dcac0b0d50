// Group specs as OpenSIPS users write them: the memcached module's modparam
// line and cachedb_memcached's URL, each good form and each bad one.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { parseGroupSpec, type GroupSpec } from '../lib/group-spec.js';
import { CacheAPI } from '../lib/cache-api.js';
import { ErrorCode, MemcacheError } from '../lib/errors.js';

/** host:port:weight of every server, for short assertions. */
function servers(spec: GroupSpec): string[] {
  return spec.servers.map((s) => `${s.address}:${s.weight}`);
}

/** Every text an error shows a log or a user: message, stack, and the same for each cause. */
function everyText(error: unknown): string {
  const parts: string[] = [];
  for (let e = error; e instanceof Error; e = e.cause) parts.push(e.message, e.stack ?? '', String(e));
  return parts.join('\n');
}

/** Asserts `parseGroupSpec(text)` throws a MemcacheError with `code` whose message holds every `names`. */
function refuses(text: string, code: ErrorCode, ...names: string[]): MemcacheError {
  let caught: unknown;
  assert.throws(
    () => parseGroupSpec(text),
    (error: unknown) => ((caught = error), true),
  );
  assert.ok(caught instanceof MemcacheError, `${text}: not a MemcacheError: ${String(caught)}`);
  assert.equal(caught.code, code, `${text}: ${caught.message}`);
  for (const name of names) assert.ok(caught.message.includes(name), `${text}: "${caught.message}" does not name ${name}`);
  return caught;
}

describe('modparam form: "name = host[:port],..."', () => {
  it('reads the OpenSIPS documentation example, port 11211 by default', () => {
    const spec = parseGroupSpec('group1 = localhost:9999,127.0.0.1');
    assert.equal(spec.storageId, 'memcached_group1');
    assert.equal(spec.name, 'group1');
    assert.deepEqual(spec.servers, [
      { host: 'localhost', port: 9999, weight: 1, address: 'localhost:9999' },
      { host: '127.0.0.1', port: 11211, weight: 1, address: '127.0.0.1:11211' },
    ]);
    assert.deepEqual(spec.options, {});
    assert.equal('username' in spec, false);
    assert.equal('password' in spec, false);
  });

  it('ends the name at the first space or "=", then skips any run of both', () => {
    for (const text of ['g=h:1', 'g = h:1', 'g==h:1', 'g =  = h:1', 'g   h:1', 'g= =h:1']) {
      const spec = parseGroupSpec(text);
      assert.equal(spec.storageId, 'memcached_g', text);
      assert.deepEqual(servers(spec), ['h:1:1'], text);
    }
  });

  it('keeps any other character in the name, as OpenSIPS does', () => {
    assert.equal(parseGroupSpec('sip.cache-1:a = h').storageId, 'memcached_sip.cache-1:a');
  });

  it('ignores whitespace around the whole spec', () => {
    assert.deepEqual(servers(parseGroupSpec('  g = a:1,b:2 \n')), ['a:1:1', 'b:2:1']);
  });

  it("reads libmemcached's list syntax: [ipv6]:port, host:port:weight, host:port weight", () => {
    const spec = parseGroupSpec('g = [::1]:11212,a:1:3,b:2 4,[0:0:0:0:0:0:0:1]:5 2,c');
    assert.deepEqual(servers(spec), ['[::1]:11212:1', 'a:1:3', 'b:2:4', '[0:0:0:0:0:0:0:1]:5:2', 'c:11211:1']);
    assert.equal(spec.servers[0]?.host, '::1');
  });

  it('skips one space after a comma, and a trailing comma, as libmemcached does', () => {
    assert.deepEqual(servers(parseGroupSpec('g = a:1, b:2,\tc:3')), ['a:1:1', 'b:2:1', 'c:3:1']);
    assert.deepEqual(servers(parseGroupSpec('g = a:1,b:2,')), ['a:1:1', 'b:2:1']);
  });

  it('refuses a spec without a name with MC_ERR_BAD_CONFIG', () => {
    refuses('= localhost', ErrorCode.BAD_CONFIG, 'no group name', '"= localhost"');
    refuses('  =h', ErrorCode.BAD_CONFIG, 'no group name');
  });

  it('refuses a spec without servers with MC_ERR_BAD_CONFIG, naming the group', () => {
    refuses('group1', ErrorCode.BAD_CONFIG, 'memcached_group1', 'no servers');
    refuses('group1 = ', ErrorCode.BAD_CONFIG, 'memcached_group1', 'no servers');
    refuses('', ErrorCode.BAD_CONFIG, 'no group name');
  });

  it('refuses a name holding a control character with MC_ERR_BAD_CONFIG', () => {
    refuses('g\t= h', ErrorCode.BAD_CONFIG, 'control character', '"g\\t"');
  });

  it('refuses an empty entry or more than one space after a comma with MC_ERR_BAD_SERVER', () => {
    refuses('g = a,,b', ErrorCode.BAD_SERVER, 'memcached_g', 'empty server', '"a,,b"');
    refuses('g = a, ,b', ErrorCode.BAD_SERVER, 'empty server');
    refuses('g = a,  b', ErrorCode.BAD_SERVER, 'memcached_g', 'bad host', '" b"');
  });

  it('refuses bad servers with the code of parseServer, naming the group and the server', () => {
    refuses('g = h:abc', ErrorCode.BAD_SERVER, 'memcached_g', 'bad port', '"h:abc"');
    refuses('g = ok:1,h:0', ErrorCode.BAD_SERVER, 'memcached_g', 'port out of range', '"h:0"');
    refuses('g = ::1', ErrorCode.BAD_SERVER, 'memcached_g', 'brackets');
    refuses('g = [::1', ErrorCode.BAD_SERVER, 'unclosed');
    refuses('g = h 2', ErrorCode.BAD_SERVER, 'bad host', '"h 2"');
    refuses('g = a/b', ErrorCode.BAD_SERVER, 'bad host');
    refuses('g = h:1:0', ErrorCode.BAD_CONFIG, 'memcached_g', 'weight');
    refuses('g = h:1 0', ErrorCode.BAD_CONFIG, 'weight');
  });

  it('keeps the server error as the cause', () => {
    const error = refuses('g = h:abc', ErrorCode.BAD_SERVER);
    assert.ok(error.cause instanceof MemcacheError);
    assert.equal(error.cause.code, ErrorCode.BAD_SERVER);
  });

  it('refuses a spec that is not a string with MC_ERR_BAD_CONFIG', () => {
    for (const bad of [undefined, null, 42, { host: 'h' }, ['g = h']]) {
      assert.throws(
        () => parseGroupSpec(bad as never),
        (error: unknown) => error instanceof MemcacheError && error.code === ErrorCode.BAD_CONFIG,
      );
    }
  });
});

describe('cachedb URL form: "memcached[:group]://..."', () => {
  it('reads the OpenSIPS documentation example', () => {
    const spec = parseGroupSpec('memcached:group1://localhost:9999,127.0.0.1/');
    assert.equal(spec.storageId, 'memcached:group1');
    assert.equal(spec.name, 'group1');
    assert.deepEqual(servers(spec), ['localhost:9999:1', '127.0.0.1:11211:1']);
    assert.deepEqual(spec.options, {});
    assert.equal('username' in spec, false);
    assert.equal('password' in spec, false);
    assert.equal('database' in spec, false);
  });

  it('names a URL without a group "memcached" (the default connection)', () => {
    const spec = parseGroupSpec('memcached://127.0.0.1:11311/');
    assert.equal(spec.storageId, 'memcached');
    assert.equal(spec.name, null);
    assert.deepEqual(servers(spec), ['127.0.0.1:11311:1']);
  });

  it('takes the URL without its final "/"', () => {
    assert.deepEqual(servers(parseGroupSpec('memcached:g://a:1,b')), ['a:1:1', 'b:11211:1']);
  });

  it('reads bracketed IPv6 addresses and weights in the host list', () => {
    assert.deepEqual(servers(parseGroupSpec('memcached:g://[::1]:11212:2,[0:0:0:0:0:0:0:1],h:1:3/')), [
      '[::1]:11212:2',
      '[0:0:0:0:0:0:0:1]:11211:1',
      'h:1:3',
    ]);
  });

  it('reads user and password, percent-decoded', () => {
    const spec = parseGroupSpec('memcached:g://al%20ice:s%40cr%3At%2F%3F@h1:1,h2/');
    assert.equal(spec.username, 'al ice');
    assert.equal(spec.password, 's@cr:t/?');
    assert.deepEqual(servers(spec), ['h1:1:1', 'h2:11211:1']);
  });

  it("ends the user info at the last '@' and the user name at the first ':'", () => {
    const spec = parseGroupSpec('memcached:g://alice:p@ss:w@rd@h/');
    assert.equal(spec.username, 'alice');
    assert.equal(spec.password, 'p@ss:w@rd');
    assert.deepEqual(servers(spec), ['h:11211:1']);
  });

  it('reads a user without a password, and an empty password', () => {
    const bob = parseGroupSpec('memcached://bob@h/');
    assert.equal(bob.username, 'bob');
    assert.equal('password' in bob, false);
    assert.equal(parseGroupSpec('memcached://bob:@h/').password, '');
  });

  it('reads the database and ?options, percent-decoded', () => {
    const spec = parseGroupSpec('memcached:g://h/db%201?tls=1&sasl_mech=PLAIN&flag&x=a%26b%3Dc&&');
    assert.equal(spec.database, 'db 1');
    assert.deepEqual(spec.options, { tls: '1', sasl_mech: 'PLAIN', flag: '', x: 'a&b=c' });
    assert.deepEqual(parseGroupSpec('memcached://h?timeout=5').options, { timeout: '5' });
  });

  it('keeps an option named __proto__ as a plain option', () => {
    const spec = parseGroupSpec('memcached://h/?__proto__=x');
    assert.equal(Object.getPrototypeOf(spec.options), Object.prototype);
    assert.deepEqual(Object.entries(spec.options), [['__proto__', 'x']]);
  });

  it('refuses another scheme with MC_ERR_BAD_CONFIG, naming it', () => {
    refuses('redis://h/', ErrorCode.BAD_CONFIG, 'unknown scheme', '"redis"');
    refuses('Memcached:g://h/', ErrorCode.BAD_CONFIG, '"Memcached"');
    refuses('://h/', ErrorCode.BAD_CONFIG, 'unknown scheme');
  });

  it('refuses an empty group name or host list with MC_ERR_BAD_CONFIG', () => {
    refuses('memcached:://h/', ErrorCode.BAD_CONFIG, 'empty group name');
    refuses('memcached:g://', ErrorCode.BAD_CONFIG, 'memcached:g', 'no servers');
    refuses('memcached:g:///', ErrorCode.BAD_CONFIG, 'no servers');
    refuses('memcached://u@/', ErrorCode.BAD_CONFIG, 'no servers');
  });

  it('refuses a bad group name, bad servers and bad options with MC_ERR_BAD_SERVER', () => {
    refuses('memcached:a:b://h/', ErrorCode.BAD_SERVER, 'bad group name', '"a:b"');
    refuses('memcached:a/b://h/', ErrorCode.BAD_SERVER, 'bad group name');
    refuses('memcached:g://h:x/', ErrorCode.BAD_SERVER, 'memcached:g', 'bad port', '"h:x"');
    refuses('memcached:g://h,,i/', ErrorCode.BAD_SERVER, 'empty server', '"h,,i"');
    refuses('memcached:g://h:1:0/', ErrorCode.BAD_CONFIG, 'weight');
    refuses('memcached:g://h /', ErrorCode.BAD_SERVER, 'whitespace at index 15');
    refuses('memcached:g://h/?=1', ErrorCode.BAD_SERVER, 'no name');
    refuses('memcached:g://h/?a=1&a=2', ErrorCode.BAD_SERVER, 'option "a" given twice');
    refuses('memcached:g://h/%zz', ErrorCode.BAD_SERVER, 'percent-encoding', 'database');
    refuses('memcached:g://:pw@h/', ErrorCode.BAD_SERVER, 'empty user name');
  });
});

describe('passwords never appear in errors', () => {
  const SECRET = 'Sup3rS3cret';
  // Each URL is bad in a different place; each holds the password in plain,
  // split or encoded form.
  const cases: [url: string, code: ErrorCode][] = [
    [`memcached:g://u:${SECRET}@h:bad/`, ErrorCode.BAD_SERVER],
    [`memcached:g://u:${SECRET}@h:1:0/`, ErrorCode.BAD_CONFIG],
    [`memcached:g://u:${SECRET}@h,,i/`, ErrorCode.BAD_SERVER],
    [`memcached:g://u:${SECRET}@/`, ErrorCode.BAD_CONFIG],
    [`memcached:g://u:Sup3r/S3cret@h/`, ErrorCode.BAD_SERVER],
    [`memcached:g://u:Sup3r?S3cret@h/`, ErrorCode.BAD_SERVER],
    [`memcached:g://u:Sup3r S3cret@h/`, ErrorCode.BAD_SERVER],
    [`memcached:g://u:Sup3r%zzS3cret@h/`, ErrorCode.BAD_SERVER],
    [`memcached:g://u:${SECRET}@h/?a=%zz`, ErrorCode.BAD_SERVER],
    [`memcached:g://u:${SECRET}@h/?a=1&a=${SECRET}`, ErrorCode.BAD_SERVER],
    [`memcached:g://:${SECRET}@h/`, ErrorCode.BAD_SERVER],
    [`memcached:a:b://u:${SECRET}@h/`, ErrorCode.BAD_SERVER],
    [`memcached:://u:${SECRET}@h/`, ErrorCode.BAD_CONFIG],
    [`redis://u:${SECRET}@h/`, ErrorCode.BAD_CONFIG],
  ];
  for (const [url, code] of cases) {
    it(`${code} without the password: ${url.replace(/u?:Sup3r.*S3cret@/, '<user:password>@')}`, () => {
      const error = refuses(url, code);
      const text = everyText(error);
      for (const part of ['Sup3r', 'S3cret']) assert.equal(text.includes(part), false, `"${error.message}" shows the password`);
    });
  }

  // Not URLs at all, or URLs broken before their "://": none may fall through
  // to a message that quotes the input (the modparam parser's, parseServer's).
  const malformed = [
    `memcached:app:${SECRET}@127.0.0.1/`,
    `memcached: //app:${SECRET}@127.0.0.1/`,
    `memcached//app:${SECRET}@127.0.0.1/`,
    `memcached:g=1://app:${SECRET}@h/`,
    `memcached:/app:${SECRET}@127.0.0.1/`,
    `memcached:app:${SECRET}@127.0.0.1:11211`,
    `memcached ://app:${SECRET}@h/`,
    `memcached:g1 ://app:${SECRET}@h/`,
    `memcached:g1 = app:${SECRET}@h`,
    `g = app:${SECRET}@127.0.0.1:11211`,
    `g = h:1,app:${SECRET}@h2`,
    `memcached:app:${SECRET}@h://x/`,
    `${SECRET}@memcached://h/`,
    `app:${SECRET}@127.0.0.1`,
    `//app:${SECRET}@h/`,
    `memcached:g://app:${SECRET}@h:x/`,
    `memcached:g://app:${SECRET}@h/,@i`,
  ];
  for (const text of malformed) {
    it(`refuses "${text.replace(SECRET, '<password>')}" with a typed error that does not show the password`, () => {
      let caught: unknown;
      assert.throws(() => parseGroupSpec(text), (error: unknown) => ((caught = error), true));
      assert.ok(caught instanceof MemcacheError, `not a MemcacheError: ${String(caught)}`);
      for (const part of ['Sup3r', 'S3cret']) assert.equal(everyText(caught).includes(part), false, `"${caught.message}" shows the password`);
      let fromApi: unknown;
      assert.throws(() => new CacheAPI([text]), (error: unknown) => ((fromApi = error), true));
      assert.ok(fromApi instanceof MemcacheError, `not a MemcacheError: ${String(fromApi)}`);
      for (const part of ['Sup3r', 'S3cret']) assert.equal(everyText(fromApi).includes(part), false, `"${fromApi.message}" shows the password`);
    });
  }

  it('says what is wrong with a URL broken before its "://", and where', () => {
    refuses(`memcached:app:${SECRET}@127.0.0.1/`, ErrorCode.BAD_SERVER, '"://"');
    refuses(`memcached: //app:${SECRET}@127.0.0.1/`, ErrorCode.BAD_SERVER, 'whitespace at index 10');
    refuses(`memcached//app:${SECRET}@127.0.0.1/`, ErrorCode.BAD_SERVER, '":" before "//" at index 9');
    refuses(`memcached:g=1://app:${SECRET}@h/`, ErrorCode.BAD_SERVER, '"=" at index 11');
    refuses(`g = app:${SECRET}@127.0.0.1:11211`, ErrorCode.BAD_SERVER, '"@" at index 19');
  });

  it('still reads modparam specs whose group name holds what a URL would', () => {
    assert.equal(parseGroupSpec('memcached:x = h:1').storageId, 'memcached_memcached:x');
    assert.equal(parseGroupSpec('a@b = h:1').storageId, 'memcached_a@b');
  });

  it('nor does a spec that is not a string', () => {
    const secret = { url: `memcached://u:${SECRET}@h/` };
    try {
      parseGroupSpec(secret as never);
      assert.fail('accepted an object');
    } catch (error) {
      assert.ok(error instanceof MemcacheError);
      assert.equal(everyText(error).includes('Sup3r'), false);
    }
  });
});
