// The workload every runtime runs against the packed package: what a web app
// does with a cache, on two real servers. Plain JavaScript, so Node, Bun, Deno
// and workerd load it as it is. Throws on the first wrong answer; returns the
// names of the checks that passed.

/** The checks, in order: the spec expects exactly these from every runtime. */
export const CHECKS = [
  'set',
  'get',
  'get miss',
  'getMulti',
  'incr creates',
  'incr',
  'decr',
  'delete',
  'get after delete',
  'delete miss',
  'value of 200 KiB',
  '500 pipelined sets',
  '500 pipelined gets',
  'getMulti of 500',
  'keys on every server',
];

/** The Group calls the workload makes (each once traced on `memring:command`); serverFor and serverNames are not calls. */
export const CALLS = { set: 503, get: 504, getMulti: 2, incr: 2, decr: 1, delete: 2 };

export async function workload(group, prefix) {
  const passed = [];
  const check = (name, ok, got) => {
    if (!ok) throw new Error(`${name}: got ${describe(got)}`);
    passed.push(name);
  };
  const key = (name) => `${prefix}:${name}`;

  check('set', (await group.set(key('a'), 'alpha', { expires: 60 })) === true);
  const a = await group.get(key('a'));
  check('get', a?.text === 'alpha', a?.text);
  const miss = await group.get(key('missing'));
  check('get miss', miss === null, miss);
  await group.set(key('b'), new Uint8Array([0, 1, 2, 255]), { flags: 7 });
  const some = await group.getMulti([key('a'), key('b'), key('missing')]);
  const b = some.get(key('b'));
  check(
    'getMulti',
    some.size === 2 && some.get(key('a'))?.text === 'alpha' && b?.value.join(',') === '0,1,2,255' && b.flags === 7,
    [...some.keys()],
  );
  const created = await group.incr(key('n'), 5, { initial: 10 });
  check('incr creates', created === 10n, created);
  const added = await group.incr(key('n'), 5);
  check('incr', added === 15n, added);
  const floored = await group.decr(key('n'), 20);
  check('decr', floored === 0n, floored);
  check('delete', (await group.delete(key('a'))) === true);
  check('get after delete', (await group.get(key('a'))) === null);
  check('delete miss', (await group.delete(key('a'))) === false);

  // Big values leave as their own chunk, uncopied: the socket must send them intact.
  const big = new Uint8Array(200 * 1024);
  for (let i = 0; i < big.length; i++) big[i] = (i * 31 + 7) & 0xff;
  await group.set(key('big'), big);
  const back = await group.get(key('big'));
  check('value of 200 KiB', back !== null && back.value.length === big.length && back.value.every((v, i) => v === big[i]));

  const keys = Array.from({ length: 500 }, (_, i) => key(`p${i}`));
  const stored = await Promise.all(keys.map((k, i) => group.set(k, `value ${i}`)));
  check('500 pipelined sets', stored.every((ok) => ok === true), stored.filter((ok) => ok !== true).length);
  const items = await Promise.all(keys.map((k) => group.get(k)));
  const wrong = items.findIndex((item, i) => item?.text !== `value ${i}`);
  check('500 pipelined gets', wrong === -1, wrong);
  const all = await group.getMulti(keys);
  check('getMulti of 500', all.size === 500, all.size);
  const servers = new Set(keys.map((k) => group.serverFor(k)));
  check('keys on every server', servers.size === group.serverNames.length, [...servers]);
  return passed;
}

function describe(value) {
  try {
    return JSON.stringify(value, (_, v) => (typeof v === 'bigint' ? `${v}n` : v));
  } catch {
    return String(value);
  }
}
