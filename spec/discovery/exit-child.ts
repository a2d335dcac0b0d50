// Run by discovery.spec.ts in its own process: a discovery group used and left
// open must not keep the process alive (poll timer and idle sockets unref'd).
import { Group } from '../../lib/index.js';

const group = new Group([process.env['ENDPOINT']!], { discovery: 'elasticache', discoveryInterval: 50 });
await group.set('exit:key', 'v');
const item = await group.get('exit:key');
if (item === null) process.exit(3);
process.stdout.write(`${group.serverNames.join(',')}\n`);
