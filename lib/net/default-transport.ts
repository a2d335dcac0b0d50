// What `#transport` (package.json "imports") is outside Workers: node:net and
// node:tls, which Bun and Deno provide too. workers-transport.ts exports the
// same name for the `workerd` and `worker` conditions.
export { nodeTransport as defaultTransport } from './node-transport.js';
