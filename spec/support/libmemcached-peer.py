#!/usr/bin/python3
"""A libmemcached client for the interop spec, through Debian's python3-pylibmc.

Reads one JSON request on stdin:
  {"servers": ["127.0.0.1:PORT[:WEIGHT]", ...], "distribution": "ketama" | "libmemcached-consistent" | "modula",
   "read": [key, ...], "write": {key: value, ...}}
fetches the "read" keys with one multi-get, stores the "write" ones, and prints
{"found": {key: value}} with what it fetched. Keys and values travel as UTF-8.
It speaks memcached's text protocol, as OpenSIPS and PHP do by default.
"""
import json
import sys

import pylibmc

BEHAVIORS = {
    'ketama': {'ketama_weighted': True},
    'libmemcached-consistent': {'ketama': True},
    'modula': {},
}

request = json.load(sys.stdin)
client = pylibmc.Client(request['servers'], behaviors=dict(BEHAVIORS[request['distribution']]))
found = client.get_multi([key.encode('utf-8') for key in request['read']])
for key, value in request['write'].items():
    if not client.set(key.encode('utf-8'), value.encode('utf-8')):
        sys.exit('libmemcached could not store %r' % key)
json.dump({'found': {key.decode('utf-8'): value.decode('utf-8') for key, value in found.items()}}, sys.stdout)
