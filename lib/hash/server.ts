/**
 * Server addresses as the ring sees them: parsed, checked, and turned into the
 * labels libmemcached hashes onto its continuum.
 */

import { ErrorCode, MemcacheError } from '../errors.js';

export const DEFAULT_PORT = 11211;
// libmemcached keeps weights in a uint32_t.
const MAX_WEIGHT = 0xffffffff;

/** A server given as an object instead of a `host:port` string. */
export interface ServerSpec {
  /** Host name or address as configured; an IPv6 address with or without brackets. */
  host: string;
  /** Defaults to 11211. */
  port?: number | undefined;
  /** Relative share of the keys in `ketama`; a positive integer, default 1. Ignored by `modula`. */
  weight?: number | undefined;
}

/** What a server may be configured as: `"host"`, `"host:port"`, `"[ipv6]:port"` or a ServerSpec. */
export type ServerInput = string | ServerSpec;

/** A checked server. */
export interface Server {
  /** Host as configured; IPv6 addresses without their brackets, as libmemcached stores them. */
  readonly host: string;
  readonly port: number;
  readonly weight: number;
  /** `host:port`, or `[ipv6]:port`: for connecting and for error messages. */
  readonly address: string;
}

// No whitespace, control characters, brackets, slashes, or the separators of lists and URLs.
const HOST_CHARS = /^[^\s\x00-\x1f\x7f[\]/,@?#]+$/;
// A host holding ':' must be an IPv6 address (optionally with a %zone), not "host:port".
const IPV6 = /^[0-9a-fA-F:.]+(%[\w.-]+)?$/;
const DIGITS = /^[0-9]{1,10}$/;

function badServer(message: string): never {
  throw new MemcacheError(ErrorCode.BAD_SERVER, message);
}

// User info or a URL ("user:password@host", "memcached://..."): such a spec may hold a password.
const USER_INFO_OR_URL = /@|\/\//;

/** `server "spec"` for a message, or, for a spec that may hold a password, only where it holds what. */
function named(spec: string): string {
  const at = spec.search(USER_INFO_OR_URL);
  if (at < 0) return `server "${spec}"`;
  const what = spec.startsWith('//', at) ? '"//" (a URL)' : '"@" (user info)';
  return `the server holding ${what} at index ${at} (not shown: it may hold a password; a server is "host[:port[:weight]]")`;
}

function checkHost(host: string, spec: string): void {
  if (!HOST_CHARS.test(host) || (host.includes(':') && !IPV6.test(host))) badServer(`bad host in ${named(spec)}`);
}

function checkPort(port: unknown, spec: string): asserts port is number {
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    badServer(`port out of range (1-65535) in ${named(spec)}`);
  }
}

function checkWeight(weight: unknown, address: string): asserts weight is number {
  if (typeof weight !== 'number' || !Number.isInteger(weight) || weight < 1 || weight > MAX_WEIGHT) {
    throw new MemcacheError(ErrorCode.BAD_CONFIG, `weight must be an integer from 1 to ${MAX_WEIGHT}`, {
      server: address,
    });
  }
}

function addressOf(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function makeServer(host: string, port: number, weight: number): Server {
  return { host, port, weight, address: addressOf(host, port) };
}

/**
 * Parses `"host"`, `"host:port"`, `"host:port:weight"` (libmemcached's and
 * pylibmc's list syntax), or the same with `"[ipv6]"` as the host. The port
 * defaults to 11211, the weight to 1. An IPv6 address must be in brackets:
 * `"::1:11211"` cannot say where the address ends.
 */
export function parseServer(spec: string): Server {
  if (typeof spec !== 'string') badServer('a server must be a "host:port" string or a { host, port } object');
  let host: string;
  let rest: string;
  if (spec.startsWith('[')) {
    const close = spec.indexOf(']');
    if (close < 0) badServer(`unclosed "[" in ${named(spec)}`);
    host = spec.slice(1, close);
    rest = spec.slice(close + 1);
    if (rest !== '' && !rest.startsWith(':')) badServer(`expected ":port" after "]" in ${named(spec)}`);
  } else {
    if (spec.includes('::')) badServer(`write an IPv6 address in brackets, as "[::1]:11211", in ${named(spec)}`);
    const colon = spec.indexOf(':');
    host = colon < 0 ? spec : spec.slice(0, colon);
    rest = colon < 0 ? '' : spec.slice(colon);
  }
  checkHost(host, spec);
  // rest is "", ":port" or ":port:weight".
  const fields = rest === '' ? [] : rest.slice(1).split(':');
  if (fields.length > 2) {
    badServer(`too many ":" in ${named(spec)} (write IPv6 addresses in brackets, as "[::1]:11211")`);
  }
  let port = DEFAULT_PORT;
  let weight = 1;
  const [portText, weightText] = fields;
  if (portText !== undefined) {
    if (!DIGITS.test(portText)) badServer(`bad port in ${named(spec)}`);
    port = Number(portText);
    checkPort(port, spec);
  }
  if (weightText !== undefined) {
    weight = DIGITS.test(weightText) ? Number(weightText) : NaN;
    checkWeight(weight, addressOf(host, port));
  }
  return makeServer(host, port, weight);
}

/** Checks a configured server (string or object) and fills in the defaults. */
export function toServer(input: ServerInput): Server {
  if (typeof input === 'string') return parseServer(input);
  if (input === null || typeof input !== 'object' || typeof input.host !== 'string') {
    badServer('a server must be a "host:port" string or a { host, port } object');
  }
  let host = input.host;
  // An object's host is unambiguous, so IPv6 brackets are optional there.
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  checkHost(host, input.host);
  const port: unknown = input.port ?? DEFAULT_PORT;
  checkPort(port, input.host);
  const weight: unknown = input.weight ?? 1;
  checkWeight(weight, addressOf(host, port));
  return makeServer(host, port, weight);
}

/**
 * The part of a continuum label before `-i`: the host alone on the default
 * port, else `host:port`. The host is written as configured, IPv6 without
 * brackets (what libmemcached prints from its stored hostname).
 */
export function labelPrefix(server: Server): string {
  return server.port === DEFAULT_PORT ? server.host : `${server.host}:${server.port}`;
}

/** Identity for duplicate detection: host names are case-insensitive. */
export function serverIdentity(server: Server): string {
  return `${server.host.toLowerCase()} ${server.port}`;
}
