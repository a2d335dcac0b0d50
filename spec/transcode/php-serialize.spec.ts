// The reader of PHP's serialize() format against what real PHP serializes:
// every scalar (INF, -0, 0.1, integers past 2^53), strings cut by byte
// length (quotes, semicolons, braces, UTF-8 and binary inside), lists,
// maps, objects; references, enums and custom-serialized objects refused
// with where and why; truncated or trailing data refused.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { unserializePhp } from '../../lib/transcode/php-serialize.js';

/** serialize() of what the PHP expression gives, as bytes. */
function serialized(expression: string): Uint8Array {
  const run = spawnSync('php', ['-r', `echo bin2hex(serialize(${expression}));`], { encoding: 'utf8', timeout: 30_000 });
  if (run.error !== undefined || run.status !== 0) {
    throw new Error(`php failed (install php-cli: apt-get install -y php-cli): ${run.error?.message ?? run.stderr}`);
  }
  return new Uint8Array(Buffer.from(run.stdout, 'hex'));
}

describe("PHP's serialize format read", () => {
  it('scalars', () => {
    assert.equal(unserializePhp(serialized('null')), null);
    assert.equal(unserializePhp(serialized('true')), true);
    assert.equal(unserializePhp(serialized('false')), false);
    assert.equal(unserializePhp(serialized('-42')), -42);
    assert.equal(unserializePhp(serialized('PHP_INT_MAX')), 9223372036854775807n);
    assert.equal(unserializePhp(serialized('0.1')), 0.1);
    assert.equal(unserializePhp(serialized('INF')), Infinity);
    assert.equal(unserializePhp(serialized('-INF')), -Infinity);
    assert.ok(Number.isNaN(unserializePhp(serialized('NAN'))));
    assert.ok(Object.is(unserializePhp(serialized('-0.0')), -0));
    assert.equal(unserializePhp(serialized('1e100')), 1e100);
  });

  it('strings by their byte length, whatever they hold', () => {
    assert.equal(unserializePhp(serialized('"a\\"b;c}:\\"{"')), 'a"b;c}:"{');
    assert.equal(unserializePhp(serialized('"héllo ☃"')), 'héllo ☃');
    assert.equal(unserializePhp(serialized('""')), '');
    assert.deepEqual(unserializePhp(serialized('"\\x00\\xff\\x80"')), new Uint8Array([0, 255, 128]));
  });

  it('lists as arrays, other arrays as objects, objects as plain objects of their properties', () => {
    assert.deepEqual(unserializePhp(serialized('[1, [2, [3]], "x"]')), [1, [2, [3]], 'x']);
    assert.deepEqual(unserializePhp(serialized('[]')), []);
    assert.deepEqual(unserializePhp(serialized('[1 => "a", 0 => "b"]')), { 1: 'a', 0: 'b' });
    assert.deepEqual(unserializePhp(serialized('["a" => 1, 0 => 2]')), { a: 1, 0: 2 });
    // A list that stops being one part way: what came before stays.
    assert.deepEqual(unserializePhp(serialized('[0 => "a", 1 => "b", "k" => "c"]')), { 0: 'a', 1: 'b', k: 'c' });
    assert.deepEqual(unserializePhp(serialized('(object) ["a" => 1, "b" => [true]]')), { a: 1, b: [true] });
    assert.deepEqual(unserializePhp(serialized('new ArrayObject()')), { 0: 0, 1: [], 2: [], 3: null });
    const kept = unserializePhp(serialized('["__proto__" => 1]')) as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(kept), Object.prototype);
    assert.deepEqual(Object.keys(kept), ['__proto__']);
  });

  it('references, enums and custom-serialized objects are refused, saying which', () => {
    const cases: [string, RegExp][] = [
      ['O:8:"stdClass":1:{s:4:"self";r:1;}', /references/],
      ['a:2:{i:0;i:1;i:1;R:2;}', /references/],
      ['E:11:"Suit:Hearts";', /enums/],
      ['C:1:"S":1:{x}', /custom-serialized/],
    ];
    for (const [text, why] of cases) assert.throws(() => unserializePhp(new TextEncoder().encode(text)), why, text);
  });

  it('malformed data is refused with its byte offset', () => {
    for (const text of ['', 'i:1', 'i:x;', 's:5:"abc";', 's:3:"abc"', 'a:2:{i:0;i:1;}', 'b:2;', 'd:;', 'i:1;i:2;', 'x:1;', 'a:1:{d:1.5;i:1;}']) {
      assert.throws(() => unserializePhp(new TextEncoder().encode(text)), /PHP serialize data malformed at byte \d+: /, text);
    }
    const deep = `${'a:1:{i:0;'.repeat(300)}N;${'}'.repeat(300)}`;
    assert.throws(() => unserializePhp(new TextEncoder().encode(deep)), /nested deeper/);
  });
});
