#!/usr/bin/python3
"""python-memcache (Debian's python3-memcache, pure Python) storing keys, for
the python-memcache placement spec: it places them itself (crc, modula), and
the spec then asks each server which keys it holds.

Reads one JSON request on stdin: {"servers": ["127.0.0.1:PORT", ...], "keys": [key, ...]}
(keys as UTF-8 text), stores every key with its own name as the value, and
prints {"stored": n}.
"""
import json
import sys

import memcache

request = json.load(sys.stdin)
client = memcache.Client(request['servers'])
stored = 0
for key in request['keys']:
    if not client.set(key.encode('utf-8'), key.encode('utf-8')):
        sys.exit('python-memcache could not store %r' % key)
    stored += 1
client.disconnect_all()
json.dump({'stored': stored}, sys.stdout)
