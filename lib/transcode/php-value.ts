/** What the 'php' transcoder stores and reads: PHP's scalars, and structures as JSON or PHP's serialize. */
export type PhpValue = string | Uint8Array | number | bigint | boolean | null | PhpValue[] | { [key: string]: PhpValue };

/** Any JSON value: what the 'json' transcoder stores and reads. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
