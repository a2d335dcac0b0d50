#!/usr/bin/env python3
"""Writes hsieh.json: libhashkit's hsieh key hash of chosen keys, computed by
libhashkit's own hsieh.cc. Debian's libhashkit is built without hsieh (its
digest returns 1), so the spec cannot ask the installed library; this compiles
the function from libmemcached's source instead, with HAVE_HSIEH_HASH defined,
on x86-64 (the build PHP and pylibmc would use).

  git clone https://github.com/awesomized/libmemcached /tmp/libmemcached
  git -C /tmp/libmemcached checkout 1.1.4
  /usr/bin/python3 spec/hash/vectors/make-hsieh-vectors.py /tmp/libmemcached
"""
import json
import os
import random
import subprocess
import sys
import tempfile

source = os.path.join(sys.argv[1], 'src', 'libhashkit', 'hsieh.cc')

# Keys: every length 0-40 in random bytes (every tail case, bytes >= 0x80 in
# every position), some long ones, and UTF-8 text.
rng = random.Random(13)
keys = [bytes(rng.randrange(256) for _ in range(n)) for n in range(41) for _ in range(3)]
keys += [bytes(rng.randrange(256) for _ in range(n)) for n in (63, 64, 65, 127, 250)]
keys += [text.encode('utf-8') for text in ('apple', 'key:1', 'café', 'clé-é', '鍵', '鍵:12', 'naïve-€-7')]

DRIVER = r'''
#include <cstdint>
#include <cstdio>
#include <string>
uint32_t hashkit_hsieh(const char *key, size_t key_length, void *);
int main() {
  char line[2048];
  while (std::fgets(line, sizeof line, stdin)) {
    std::string bytes;
    for (char *p = line; p[0] && p[0] != '\n' && p[1]; p += 2) {
      unsigned value;
      std::sscanf(p, "%2x", &value);
      bytes.push_back((char) value);
    }
    std::printf("%u\n", hashkit_hsieh(bytes.data(), bytes.size(), nullptr));
  }
}
'''

with tempfile.TemporaryDirectory() as work:
    # hsieh.cc includes "libhashkit/common.h"; it needs only the integer types.
    os.makedirs(os.path.join(work, 'libhashkit'))
    with open(os.path.join(work, 'libhashkit', 'common.h'), 'w') as shim:
        shim.write('#include <cstddef>\n#include <cstdint>\n')
    with open(os.path.join(work, 'driver.cc'), 'w') as driver:
        driver.write(DRIVER)
    program = os.path.join(work, 'hsieh')
    subprocess.run(['g++', '-O1', '-DHAVE_HSIEH_HASH', '-I', work, source, os.path.join(work, 'driver.cc'), '-o', program],
                   check=True)
    run = subprocess.run([program], input=''.join(key.hex() + '\n' for key in keys), capture_output=True, text=True,
                         check=True)

values = [int(line) for line in run.stdout.split()]
assert len(values) == len(keys)
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'hsieh.json')
with open(out, 'w') as f:
    json.dump({'source': 'libmemcached 1.1.4 src/libhashkit/hsieh.cc, HAVE_HSIEH_HASH, g++ on x86-64',
               'keys': [key.hex() for key in keys], 'hsieh': values}, f, indent=1)
    f.write('\n')
print('wrote %d vectors to %s' % (len(keys), out))
