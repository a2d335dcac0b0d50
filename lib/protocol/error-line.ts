/**
 * What memcached's error lines mean, for the two text dialects (meta and
 * classic text), which share them: CLIENT_ERROR and SERVER_ERROR with their
 * text mapped onto an error code and the binary status MemcacheError.status
 * holds (the README's status table), and the answer to text authentication.
 */
import { verbName, type Verb } from '../command.js';
import { ErrorCode, MemcacheError } from '../errors.js';
import { Status, describeStatus } from './status.js';

/** `<verb> failed: <said> (<status>)`, with its status. */
export function statusError(verb: Verb, status: number, code: ErrorCode, said: string, server: string): MemcacheError {
  return new MemcacheError(code, `${verbName(verb)} failed: ${said} (${describeStatus(status)})`, { server, status });
}

/** What `CLIENT_ERROR <text>` (clientError) or `SERVER_ERROR <text>` answering `verb` means. */
export function errorLineError(verb: Verb, clientError: boolean, text: string, server: string): MemcacheError {
  const said = `the server answered ${clientError ? 'CLIENT_ERROR' : 'SERVER_ERROR'} ${text}`;
  if (clientError) {
    if (text.startsWith('cannot increment or decrement non-numeric')) return statusError(verb, Status.NonNumeric, ErrorCode.NOT_NUMERIC, said, server);
    if (text === 'unauthenticated') {
      return statusError(verb, Status.AuthError, ErrorCode.AUTH, `${said}: the server requires authentication (memcached -Y); give sasl credentials`, server);
    }
    // "authentication failure"; "flush_all not allowed" (memcached -F).
    if (text.startsWith('authentication') || text.endsWith('not allowed')) return statusError(verb, Status.AuthError, ErrorCode.AUTH, said, server);
    return statusError(verb, Status.InvalidArguments, ErrorCode.SERVER, said, server);
  }
  if (text.startsWith('object too large')) return statusError(verb, Status.ValueTooLarge, ErrorCode.VALUE_TOO_LARGE, said, server);
  if (/out of memory/i.test(text)) return statusError(verb, Status.OutOfMemory, ErrorCode.SERVER, said, server);
  return statusError(verb, Status.InternalError, ErrorCode.SERVER, said, server);
}

/** A text authentication that did not end with STORED. The user is named, the password never. */
export function textAuthError(username: string, said: string, server: string): MemcacheError {
  return new MemcacheError(ErrorCode.AUTH, `text authentication as user ${JSON.stringify(username)} failed: the server answered ${said}`, {
    server,
    status: Status.AuthError,
  });
}
