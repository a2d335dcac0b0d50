/** Response status codes of the binary protocol. */
export const Status = {
  Ok: 0x00,
  KeyNotFound: 0x01,
  KeyExists: 0x02,
  ValueTooLarge: 0x03,
  InvalidArguments: 0x04,
  ItemNotStored: 0x05,
  NonNumeric: 0x06,
  VbucketElsewhere: 0x07,
  AuthError: 0x20,
  AuthContinue: 0x21,
  UnknownCommand: 0x81,
  OutOfMemory: 0x82,
  NotSupported: 0x83,
  InternalError: 0x84,
  Busy: 0x85,
  TemporaryFailure: 0x86,
} as const;

export type Status = (typeof Status)[keyof typeof Status];

const descriptions: Record<number, string> = {
  [Status.Ok]: 'no error',
  [Status.KeyNotFound]: 'key not found',
  [Status.KeyExists]: 'key exists',
  [Status.ValueTooLarge]: 'value too large',
  [Status.InvalidArguments]: 'invalid arguments',
  [Status.ItemNotStored]: 'item not stored',
  [Status.NonNumeric]: 'incr/decr on a non-numeric value',
  [Status.VbucketElsewhere]: 'vbucket belongs to another server',
  [Status.AuthError]: 'authentication error',
  [Status.AuthContinue]: 'authentication continue',
  [Status.UnknownCommand]: 'unknown command',
  [Status.OutOfMemory]: 'out of memory',
  [Status.NotSupported]: 'not supported',
  [Status.InternalError]: 'internal error',
  [Status.Busy]: 'busy',
  [Status.TemporaryFailure]: 'temporary failure',
};

/** Human text for a status, e.g. "key exists (0x02)". */
export function describeStatus(status: number): string {
  const hex = `0x${status.toString(16).padStart(2, '0')}`;
  const text = descriptions[status];
  return text === undefined ? `unknown status ${hex}` : `${text} (${hex})`;
}
