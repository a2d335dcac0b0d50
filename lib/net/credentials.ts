/** SASL PLAIN credentials (binary protocol) or text authentication (meta): sent on every new connection before anything else. */
export interface SaslCredentials {
  username: string;
  password: string;
}
