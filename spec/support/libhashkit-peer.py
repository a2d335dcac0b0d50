#!/usr/bin/python3
"""libmemcached's own key hashes, for the key-hash spec: calls Debian's
libhashkit.so.2 (the library under libmemcached, PHP's memcached extension and
pylibmc) through ctypes.

Reads one JSON request on stdin: {"keys": [hex, ...]} (each key's bytes in hex)
and prints {"available": {name: bool}, "hashes": {name: [uint32, ...]}}: for
every hash libmemcached has, whether this build has it (libhashkit_has_algorithm)
and libhashkit_digest of every key with it.
"""
import ctypes
import json
import sys

# hashkit_hash_algorithm_t, in libhashkit's order (HASHKIT_HASH_DEFAULT = 0 ...).
ALGORITHMS = ['one-at-a-time', 'md5', 'crc', 'fnv1_64', 'fnv1a_64', 'fnv1_32', 'fnv1a_32', 'hsieh', 'murmur', 'jenkins']

try:
    hashkit = ctypes.CDLL('libhashkit.so.2')
except OSError as error:
    sys.exit('libhashkit.so.2 not found (%s): apt-get install -y libhashkit2' % error)
hashkit.libhashkit_digest.restype = ctypes.c_uint32
hashkit.libhashkit_digest.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_int]
hashkit.libhashkit_has_algorithm.restype = ctypes.c_bool
hashkit.libhashkit_has_algorithm.argtypes = [ctypes.c_int]

request = json.load(sys.stdin)
keys = [bytes.fromhex(key) for key in request['keys']]
available = {}
hashes = {}
for number, name in enumerate(ALGORITHMS):
    available[name] = bool(hashkit.libhashkit_has_algorithm(number))
    hashes[name] = [hashkit.libhashkit_digest(key, len(key), number) for key in keys]
json.dump({'available': available, 'hashes': hashes}, sys.stdout)
