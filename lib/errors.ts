/**
 * Every failure memring reports is a MemcacheError with a stable `code`.
 * Messages name the server (host:port) and the operation, never a value or a
 * password: errors end up in logs.
 */

/** Stable error codes. Documented one by one in the README. */
export const ErrorCode = {
  /** Key empty, over 250 bytes, not a string, or holding a space or control character. */
  BAD_KEY: 'MC_ERR_BAD_KEY',
  /** Value of the wrong type (not a string or Uint8Array). */
  BAD_VALUE: 'MC_ERR_BAD_VALUE',
  /** Value over the item size limit (client side, or the server's status 0x03). */
  VALUE_TOO_LARGE: 'MC_ERR_VALUE_TOO_LARGE',
  /** An argument or option of the wrong type or out of range. */
  BAD_ARGUMENT: 'MC_ERR_BAD_ARGUMENT',
  /** A server address or group spec that cannot be parsed. */
  BAD_SERVER: 'MC_ERR_BAD_SERVER',
  /** A configuration the client cannot build (empty server list, bad distribution...). */
  BAD_CONFIG: 'MC_ERR_BAD_CONFIG',
  /** The TCP (or TLS) connection could not be made: refused, unreachable, reset while connecting. */
  CONNECT: 'MC_ERR_CONNECT',
  /** The connection was not made within the connect timeout. */
  CONNECT_TIMEOUT: 'MC_ERR_CONNECT_TIMEOUT',
  /** The server did not answer within the operation timeout; the connection was closed. */
  TIMEOUT: 'MC_ERR_TIMEOUT',
  /** The connection closed or failed while the operation was in flight. */
  CONN_CLOSED: 'MC_ERR_CONN_CLOSED',
  /** The server sent bytes that are not a valid reply (bad magic, unmatched opaque). */
  PROTOCOL: 'MC_ERR_PROTOCOL',
  /** The caller's AbortSignal fired before the reply arrived. */
  ABORTED: 'MC_ERR_ABORTED',
  /** The client was closed; no new operations are accepted. */
  CLIENT_CLOSED: 'MC_ERR_CLIENT_CLOSED',
  /** incr/decr on a value that is not a decimal number (status 0x06). */
  NOT_NUMERIC: 'MC_ERR_NOT_NUMERIC',
  /** Authentication failed or is required (status 0x20). */
  AUTH: 'MC_ERR_AUTH',
  /** The TLS handshake failed: unknown CA, name mismatch, expired certificate, not a TLS server... */
  TLS: 'MC_ERR_TLS',
  /** Any other error status from the server; `status` holds it. */
  SERVER: 'MC_ERR_SERVER',
  /** Too many operations queued for one server. */
  QUEUE_FULL: 'MC_ERR_QUEUE_FULL',
  /** The server is marked down; the operation failed fast without being sent. */
  SERVER_DOWN: 'MC_ERR_SERVER_DOWN',
  /** No live server is left to take the key. */
  NO_SERVERS: 'MC_ERR_NO_SERVERS',
  /** The operation needs what the group's protocol (or a proxy in front of the servers) does not offer. */
  UNSUPPORTED: 'MC_ERR_UNSUPPORTED',
  /** A stored value the group's transcoder cannot decode (the raw bytes are kept on the error). */
  DECODE: 'MC_ERR_DECODE',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface MemcacheErrorOptions {
  /** host:port of the server involved, when there is one. */
  server?: string | undefined;
  /** The binary-protocol status the server answered with, when there is one. */
  status?: number | undefined;
  cause?: unknown;
}

export class MemcacheError extends Error {
  override readonly name = 'MemcacheError';
  readonly code: ErrorCode;
  /** Server status code (e.g. 0x06), or undefined when the error is not the server's answer. */
  readonly status: number | undefined;
  /** host:port of the server involved, or undefined. */
  readonly server: string | undefined;

  constructor(code: ErrorCode, message: string, options: MemcacheErrorOptions = {}) {
    const where = options.server === undefined ? '' : ` (${options.server})`;
    super(`${message}${where}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options.status;
    this.server = options.server;
  }
}

/** True when `error` is a MemcacheError, optionally with the given code. */
export function isMemcacheError(error: unknown, code?: ErrorCode): error is MemcacheError {
  return error instanceof MemcacheError && (code === undefined || error.code === code);
}
