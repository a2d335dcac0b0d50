#!/usr/bin/env python3
"""Writes libmemcached-extra.json: key placements decided by libmemcached itself.

Steady-state cases call memcached_generate_hash() through ctypes (no network).
Failover cases use pylibmc against real memcached servers on 127.0.0.1 with one
address that refuses connections, so libmemcached ejects it (AUTO_EJECT_HOSTS),
then ask every live server which keys it holds.

Needs Debian's python3-pylibmc (libmemcached 1.1.4) and memcached listening on
127.0.0.1:41001-41006:
  for p in 41001 41002 41003 41004 41005 41006; do memcached -l 127.0.0.1 -p $p -d; done
  /usr/bin/python3 spec/hash/vectors/make-libmemcached-vectors.py
"""
import ctypes
import json
import os

import pylibmc

lib = ctypes.CDLL('libmemcached.so.11')
lib.memcached_create.restype = ctypes.c_void_p
lib.memcached_create.argtypes = [ctypes.c_void_p]
lib.memcached_free.argtypes = [ctypes.c_void_p]
lib.memcached_server_add_with_weight.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_uint16, ctypes.c_uint32]
lib.memcached_behavior_set.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_uint64]
lib.memcached_generate_hash.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t]
lib.memcached_generate_hash.restype = ctypes.c_uint32
BEHAVIOR_KETAMA, BEHAVIOR_KETAMA_WEIGHTED = 3, 16

KEYS = (['key:%d' % i for i in range(200)]
        + ['user:%d:profile' % (i * 7919) for i in range(60)]
        + ['café-%d' % i for i in range(10)] + ['ключ:%d' % i for i in range(10)]
        + ['鍵%d' % i for i in range(10)] + ['emoji-\U0001F600-%d' % i for i in range(10)]
        + ['x' * 250, 'K' * 57, 'k'])


def spec(host, port):
    return ('[%s]:%d' if ':' in host else '%s:%d') % (host, port)


def generate_hash(distribution, servers):
    m = lib.memcached_create(None)
    if distribution == 'ketama':
        assert lib.memcached_behavior_set(m, BEHAVIOR_KETAMA_WEIGHTED, 1) == 0
    elif distribution == 'libmemcached-consistent':
        assert lib.memcached_behavior_set(m, BEHAVIOR_KETAMA, 1) == 0
    for host, port, weight in servers:
        assert lib.memcached_server_add_with_weight(m, host.encode(), port, weight) == 0
    placement = []
    for key in KEYS:
        raw = key.encode('utf-8')
        placement.append(lib.memcached_generate_hash(m, raw, len(raw)))
    lib.memcached_free(m)
    return placement


def steady(name, distribution, servers):
    case = {'name': name, 'distribution': distribution, 'servers': [spec(h, p) for h, p, _ in servers]}
    if any(w != 1 for _, _, w in servers):
        case['weights'] = [w for _, _, w in servers]
    case['placement'] = generate_hash(distribution, servers)
    return case


LIVE = [41001, 41002, 41003, 41004, 41005, 41006]
DEAD = 41099  # nothing listens here


def failover(name, distribution, weights):
    ports = LIVE[:2] + [DEAD] + LIVE[2:]
    servers = ['127.0.0.1:%d' % p for p in ports]
    specs = servers if weights is None else ['%s:%d' % (s, weights[i]) for i, s in enumerate(servers)]
    behaviors = {'auto_eject': True, 'failure_limit': 1, 'retry_timeout': 60, 'connect_timeout': 200}
    if distribution == 'ketama':
        behaviors['ketama_weighted'] = True
    elif distribution == 'libmemcached-consistent':
        behaviors['ketama'] = True
    client = pylibmc.Client(specs, binary=True, behaviors=behaviors)
    singles = {i: pylibmc.Client([s], binary=True) for i, s in enumerate(servers) if ports[i] != DEAD}
    for _ in range(2):  # the first failures eject the dead server
        for key in KEYS:
            try:
                client.set(key, 'x')
            except pylibmc.Error:
                pass
    for single in singles.values():
        single.flush_all()
    for key in KEYS:
        try:
            client.set(key, 'x')
        except pylibmc.Error:
            pass  # modula: the dead server's keys fail, they are not moved
    holders = {}
    for i, single in singles.items():
        for key in single.get_multi(KEYS):
            holders.setdefault(key, []).append(i)
    placement = []
    for key in KEYS:
        where = holders.get(key, [])
        assert len(where) <= 1, key
        placement.append(where[0] if where else -1)
    case = {'name': name, 'distribution': distribution, 'servers': servers, 'ejected': [ports.index(DEAD)]}
    if weights is not None:
        case['weights'] = weights
    case['placement'] = placement
    return case


def hosts(count, port=11211):
    return [('127.20.%d.%d' % (i >> 8, i & 0xff), port, 1) for i in range(count)]


cases = []
ipv6 = [('::1', 11211, 1), ('::1', 11212, 1), ('::1', 11213, 1), ('::1', 31001, 1)]
names = [('Cache-A.localhost', 11211, 1), ('cache-b.localhost', 11311, 1), ('localhost', 11211, 1)]
# Labels only (placement is computed without connecting): loopback addresses all the same.
weighted = [('127.30.0.1', 11211, 1), ('127.30.0.2', 11211, 100), ('127.30.0.3', 31000, 7), ('127.30.0.4', 11211, 3)]
for distribution in ('ketama', 'libmemcached-consistent', 'modula'):
    cases.append(steady('ipv6-4/' + distribution, distribution, ipv6))
    cases.append(steady('hostnames-3/' + distribution, distribution, names))
for distribution in ('ketama', 'libmemcached-consistent'):
    cases.append(steady('weighted-4/' + distribution, distribution, weighted))
cases.append(steady('default-port-100/ketama', 'ketama', hosts(100)))
# libmemcached asserts on more than 100 servers in a continuum (MEMCACHED_CONTINUUM_SIZE).
cases.append(steady('custom-port-64/ketama', 'ketama', hosts(64, 40000)))
cases.append(steady('default-port-12/libmemcached-consistent', 'libmemcached-consistent', hosts(12)))
cases.append(failover('failover-7/ketama', 'ketama', None))
cases.append(failover('failover-7-weighted/ketama', 'ketama', [1, 2, 3, 1, 5, 2, 1]))
cases.append(failover('failover-7/libmemcached-consistent', 'libmemcached-consistent', None))
cases.append(failover('failover-7-weighted/libmemcached-consistent', 'libmemcached-consistent', [1, 2, 3, 1, 5, 2, 1]))
cases.append(failover('failover-7/modula', 'modula', None))

out = {
    'made_with': 'libmemcached 1.1.4 (Debian bookworm libmemcached11) via ctypes and pylibmc 1.6.3; '
                 'servers memcached on 127.0.0.1; see make-libmemcached-vectors.py',
    'keys': KEYS,
    'cases': cases,
}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'libmemcached-extra.json')
with open(path, 'w', encoding='utf-8') as f:
    json.dump(out, f, ensure_ascii=False, separators=(',', ':'))
    f.write('\n')
print('wrote', path, len(cases), 'cases,', len(KEYS), 'keys')
