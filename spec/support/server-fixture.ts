// A describe's own memcached and a plain (raw bytes) Group on it: started
// before its first test, closed and stopped after its last.
import { after, before } from 'node:test';
import { Group } from '../../lib/index.js';
import { MemcachedServer } from './memcached.js';

export interface ServerFixture {
  server: MemcachedServer;
  /** A Group with no transcoder: what is stored, byte for byte. */
  raw: Group;
}

/** Call inside a describe: its fields are set once its `before` hook has run. */
export function serverFixture(): ServerFixture {
  const fixture = {} as ServerFixture;
  before(async () => {
    fixture.server = await MemcachedServer.start();
    fixture.raw = new Group(fixture.server.address);
  });
  after(async () => {
    await fixture.raw.close();
    await fixture.server.stop();
  });
  return fixture;
}
