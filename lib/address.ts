import { ErrorCode, MemcacheError } from './errors.js';

export const DEFAULT_PORT = 11211;

/** A server as configured: host as written, port, and its weight in the ring. */
export interface ServerAddress {
  host: string;
  port: number;
  weight: number;
}

/** A server given as `"host:port"` (or `"host:port:weight"`, `"[::1]:port"`) or as an object. */
export type ServerInput = string | { host: string; port?: number; weight?: number };

/**
 * Parses one server the way libmemcached's list parser does: `host`,
 * `host:port`, `host:port:weight`, `[ipv6]`, `[ipv6]:port`, `[ipv6]:port:weight`.
 * A missing port means 11211.
 */
export function parseServer(input: ServerInput): ServerAddress {
  if (typeof input === 'object' && input !== null) return checkServer(input.host, input.port, input.weight, input);
  if (typeof input !== 'string') {
    throw new MemcacheError(ErrorCode.BAD_SERVER, `a server must be a "host:port" string or { host, port }, got ${typeof input}`);
  }
  const text = input.trim();
  let host: string;
  let rest: string;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) throw badServer(input, 'an IPv6 address opened with "[" is not closed with "]"');
    host = text.slice(1, close);
    rest = text.slice(close + 1);
    if (rest !== '' && !rest.startsWith(':')) throw badServer(input, `unexpected "${rest}" after "]"`);
  } else {
    const colon = text.indexOf(':');
    host = colon < 0 ? text : text.slice(0, colon);
    rest = colon < 0 ? '' : text.slice(colon);
  }
  let port: number | undefined;
  let weight: number | undefined;
  if (rest !== '') {
    rest = rest.slice(1);
    const parts = rest.split(':');
    if (parts.length > 2) throw badServer(input, 'too many ":" (IPv6 addresses go in brackets: "[::1]:11211")');
    port = parseNumber(parts[0]!, input, 'port');
    if (parts[1] !== undefined) weight = parseNumber(parts[1], input, 'weight');
  }
  return checkServer(host, port, weight, input);
}

function parseNumber(text: string, input: unknown, what: string): number {
  if (!/^[0-9]+$/.test(text)) throw badServer(input, `${what} "${text}" is not a number`);
  return Number(text);
}

function checkServer(host: unknown, port: unknown, weight: unknown, input: unknown): ServerAddress {
  if (typeof host !== 'string' || host === '') throw badServer(input, 'the host is empty');
  if (/[\s,/@?#\[\]]/.test(host) || (host.includes(':') && !/^[0-9a-fA-F:.]+(%[\w.-]+)?$/.test(host))) {
    throw badServer(input, `"${host}" is not a host name or address`);
  }
  const p = port ?? DEFAULT_PORT;
  if (typeof p !== 'number' || !Number.isInteger(p) || p < 1 || p > 65535) {
    throw badServer(input, `port ${String(p)} is not from 1 to 65535`);
  }
  const w = weight ?? 1;
  if (typeof w !== 'number' || !Number.isInteger(w) || w < 1) {
    throw badServer(input, `weight ${String(w)} is not a positive integer`);
  }
  return { host, port: p, weight: w };
}

function badServer(input: unknown, why: string): MemcacheError {
  const shown = typeof input === 'string' ? `"${input}"` : JSON.stringify(input) ?? String(input);
  return new MemcacheError(ErrorCode.BAD_SERVER, `bad server ${shown}: ${why}`);
}
