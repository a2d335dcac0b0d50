/**
 * Group specs as OpenSIPS configurations write them, so a memcached section of
 * an OpenSIPS config can be pasted into a CacheAPI unchanged:
 * - the memcached module's `"group1 = localhost:9999,127.0.0.1"`
 *   (storage id `memcached_group1`);
 * - cachedb_memcached's URL,
 *   `memcached[:group]://[user[:password]@]host[:port][,host[:port]...]/[database][?options]`
 *   (storage id `memcached:group`, or `memcached` without a group).
 * Every server goes through parseServer: one host:port parser in the project.
 * Error messages name the group and the offending part, never a password.
 */

import { ErrorCode, MemcacheError } from './errors.js';
import { parseServer, type Server } from './hash/server.js';

/** A parsed group spec: what CacheAPI needs to build a Group and name it. */
export interface GroupSpec {
  /** The id cache_store & co. name the group by: `memcached_<name>`, `memcached:<group>` or `memcached`. */
  storageId: string;
  /** The group's name; null for a cachedb URL without a group (the default `memcached` connection). */
  name: string | null;
  /** Checked servers (host, port, weight) in configured order: ready for `new Group(servers)`. */
  servers: Server[];
  /** From a URL's `user@` or `user:password@`, percent-decoded. Not yet used for SASL. */
  username?: string;
  /** From a URL's `user:password@`, percent-decoded. Never shown in an error message. */
  password?: string;
  /** A URL's path after the host list, percent-decoded; memcached has no databases and ignores it. */
  database?: string;
  /** A URL's `?name=value&...`, percent-decoded; empty for the modparam form. */
  options: Record<string, string>;
  /** True for a `memcacheds:` URL: the group is reached over TLS. */
  tls: boolean;
}

const SCHEME = 'memcached';
/** The same over TLS (as https is to http); the storage id stays memcached[:group]. */
const TLS_SCHEME = 'memcacheds';
// A URL is "scheme[:group]://" with no space or '=' before the "://".
const URL_FORM = /^[^\s=]*:\/\//;
// The modparam form: the name runs to the first space or '=', then any run of both.
const MODPARAM_FORM = /^([^ =]*)[ =]*([\s\S]*)$/;
const CONTROL = /[\x00-\x1f\x7f]/;
// libmemcached's "host:port weight": the weight after a space instead of a ':'.
const SPACED_WEIGHT = /^(.*:[0-9]+) +([0-9]+)$/;
const MODPARAM_EXAMPLE = '"name = host[:port],host[:port]..."';
const URL_EXAMPLE = '"memcached[:group]://[user[:password]@]host[:port],.../"';

function badServer(message: string): never {
  throw new MemcacheError(ErrorCode.BAD_SERVER, message);
}

function badConfig(message: string): never {
  throw new MemcacheError(ErrorCode.BAD_CONFIG, message);
}

// JSON quoting shows control characters instead of printing them.
const quote = (text: string): string => JSON.stringify(text);

// User info or a URL: text holding either may hold a password.
const USER_INFO_OR_URL = /@|\/\//;
// What may be a URL gone wrong (or user info in a host list): the modparam parser's messages must not show it.
const URL_LIKE = /@|\/\/|^memcacheds?:/i;

/**
 * `text` quoted for a message, or, when it holds "@" or "//" (user info, a
 * URL: it may hold a password), only where it does.
 */
export function shownText(text: string): string {
  const at = text.search(USER_INFO_OR_URL);
  if (at < 0) return quote(text);
  return `(not shown: it holds "${text.startsWith('//', at) ? '//' : '@'}" at index ${at}, so it may hold a password)`;
}

/**
 * Parses a group spec in either OpenSIPS form (see the file comment). Leading
 * and trailing whitespace is ignored. Throws MemcacheError: MC_ERR_BAD_CONFIG
 * for a missing name, an empty server list or an unknown scheme,
 * MC_ERR_BAD_SERVER (or parseServer's MC_ERR_BAD_CONFIG for a bad weight) for
 * anything else that cannot be read.
 */
export function parseGroupSpec(text: string): GroupSpec {
  // Never echo what was given: a URL may hold a password.
  if (typeof text !== 'string') badConfig('a group spec must be a string, as OpenSIPS writes it');
  const spec = text.trim();
  if (URL_FORM.test(spec)) return parseUrl(spec);
  try {
    return parseModparam(spec);
  } catch (error) {
    // The modparam parser's messages quote the spec: a broken URL's would show its password.
    if (error instanceof MemcacheError && URL_LIKE.test(spec)) badServer(urlMistake(spec));
    throw error;
  }
}

/**
 * What is wrong with a spec that is not a cachedb URL but looks like one (or
 * holds user info), told by position and by the parts that hold no secret.
 */
function urlMistake(spec: string): string {
  const slashes = spec.indexOf('//');
  if (slashes >= 0) {
    const bad = spec.slice(0, slashes).search(/[\s=]/);
    if (bad >= 0) {
      const what = spec[bad] === '=' ? '"="' : 'whitespace';
      return `cachedb URL holds ${what} at index ${bad}, before its "://"; expected ${URL_EXAMPLE}`;
    }
    return `cachedb URL needs ":" before "//" at index ${slashes}; expected ${URL_EXAMPLE}`;
  }
  const at = spec.indexOf('@');
  if (/^memcacheds?:/i.test(spec)) {
    const where = at < 0 ? '' : ` ("@" at index ${at})`;
    return `cachedb URL has no "://" after its scheme and group${where}; expected ${URL_EXAMPLE}`;
  }
  return `"@" at index ${at} of a group spec: hosts cannot hold one (${MODPARAM_EXAMPLE}), and user info belongs in a cachedb URL, ${URL_EXAMPLE}`;
}

/** `modparam("memcached", "server", "group1 = localhost:9999,127.0.0.1")`. */
function parseModparam(spec: string): GroupSpec {
  const [, name = '', list = ''] = MODPARAM_FORM.exec(spec) ?? [];
  if (name === '') badConfig(`group spec ${quote(spec)} has no group name; expected ${MODPARAM_EXAMPLE}`);
  if (CONTROL.test(name)) badConfig(`group name ${quote(name)} holds a control character`);
  const storageId = `memcached_${name}`;
  if (list === '') badConfig(`group ${quote(storageId)} lists no servers; expected ${MODPARAM_EXAMPLE}`);
  return { storageId, name, servers: parseServerList(list, storageId), tls: false, options: {} };
}

/**
 * libmemcached's memcached_servers_parse, with parseServer doing the checking:
 * comma separated; one whitespace character after a comma skipped; a trailing
 * comma ignored; `host:port weight` read as `host:port:weight`.
 */
function parseServerList(list: string, storageId: string): Server[] {
  const items = list.split(',');
  if (items.length > 1 && items[items.length - 1] === '') items.pop();
  const servers: Server[] = [];
  for (let i = 0; i < items.length; i++) {
    let item = items[i]!;
    if (i > 0 && /^\s/.test(item)) item = item.slice(1);
    if (item === '') badServer(`group ${quote(storageId)}: empty server in list ${quote(list)}`);
    const spaced = SPACED_WEIGHT.exec(item);
    try {
      servers.push(parseServer(spaced === null ? item : `${spaced[1]}:${spaced[2]}`));
    } catch (error) {
      if (!(error instanceof MemcacheError)) throw error;
      throw new MemcacheError(error.code, `group ${quote(storageId)}: ${error.message}`, { cause: error });
    }
  }
  return servers;
}

/** `modparam("cachedb_memcached", "cachedb_url", "memcached:group1://localhost:9999,127.0.0.1/")`. */
function parseUrl(url: string): GroupSpec {
  // Only the scheme, the group, the host list, option names and positions are
  // ever quoted below: the user info never is.
  const space = url.search(/\s/);
  if (space >= 0) badServer(`cachedb URL holds whitespace at index ${space}; percent-encode it (%20)`);
  const slashes = url.indexOf('://');
  const head = url.slice(0, slashes);
  const rest = url.slice(slashes + 3);
  // User info before the "://" (as in "user:password@memcached://h/") would be quoted as a scheme or group.
  const early = head.indexOf('@');
  if (early >= 0) badServer(`cachedb URL holds "@" at index ${early}, before its "://"; expected ${URL_EXAMPLE}`);
  const colon = head.indexOf(':');
  const scheme = colon < 0 ? head : head.slice(0, colon);
  if (scheme !== SCHEME && scheme !== TLS_SCHEME) {
    badConfig(`unknown scheme ${quote(scheme)} in cachedb URL; expected "${SCHEME}" or "${TLS_SCHEME}" (TLS)`);
  }
  const name = colon < 0 ? null : head.slice(colon + 1);
  if (name === '') badConfig('cachedb URL "memcached:" has an empty group name; write "memcached:group://..." or "memcached://..."');
  if (name !== null && (name.includes(':') || name.includes('/') || CONTROL.test(name))) {
    badServer(`bad group name ${quote(name)} in cachedb URL`);
  }
  const storageId = name === null ? SCHEME : `${SCHEME}:${name}`;

  // The host list runs to the first '/' or '?'; the user info ends at the last
  // '@' before it (hosts cannot hold '@', passwords may).
  let end = rest.search(/[/?]/);
  if (end < 0) end = rest.length;
  const authority = rest.slice(0, end);
  const tail = rest.slice(end);
  // An '@' past the host list means a '/' or '?' in the user info cut it short:
  // what looks like hosts may be part of a password, so nothing is quoted.
  if (tail.includes('@')) {
    badServer(`group ${quote(storageId)}: "@" after the host list in cachedb URL; percent-encode "/", "?" and "@" in user names and passwords (%2F, %3F, %40)`);
  }
  const at = authority.lastIndexOf('@');
  const hosts = authority.slice(at + 1);
  if (hosts === '') badConfig(`group ${quote(storageId)}: cachedb URL lists no servers`);
  const spec: GroupSpec = { storageId, name, servers: parseServerList(hosts, storageId), tls: scheme === TLS_SCHEME, options: {} };

  if (at >= 0) {
    const userInfo = authority.slice(0, at);
    const split = userInfo.indexOf(':');
    spec.username = decode(split < 0 ? userInfo : userInfo.slice(0, split), 'user name', storageId);
    if (spec.username === '') badServer(`group ${quote(storageId)}: empty user name in cachedb URL`);
    if (split >= 0) spec.password = decode(userInfo.slice(split + 1), 'password', storageId);
  }
  const question = tail.indexOf('?');
  const path = question < 0 ? tail : tail.slice(0, question);
  if (path.length > 1) spec.database = decode(path.slice(1), 'database', storageId);
  if (question >= 0) spec.options = parseOptions(tail.slice(question + 1), storageId);
  return spec;
}

function decode(text: string, what: string, storageId: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    // The text is not quoted: it may be (part of) a password.
    return badServer(`group ${quote(storageId)}: malformed percent-encoding in the ${what} of the cachedb URL`);
  }
}

/** `name=value&name2=value2`; a name without `=` has the value "". Values are never quoted in errors. */
function parseOptions(query: string, storageId: string): Record<string, string> {
  const options: Record<string, string> = {};
  for (const pair of query.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = decode(eq < 0 ? pair : pair.slice(0, eq), 'option names', storageId);
    const value = eq < 0 ? '' : decode(pair.slice(eq + 1), 'option values', storageId);
    if (name === '') badServer(`group ${quote(storageId)}: an option of the cachedb URL has no name`);
    if (Object.hasOwn(options, name)) badServer(`group ${quote(storageId)}: option ${quote(name)} given twice in cachedb URL`);
    // defineProperty: a name such as "__proto__" stays a plain own property.
    Object.defineProperty(options, name, { value, enumerable: true, writable: true, configurable: true });
  }
  return options;
}
