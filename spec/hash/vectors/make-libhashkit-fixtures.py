#!/usr/bin/env python3
"""Writes libhashkit-fixtures.json: the expected values libmemcached's own test
suite holds for every key hash (test/fixtures/hashes.hpp: 26 words, one row
per hash), read out of a libmemcached checkout:

  git clone https://github.com/awesomized/libmemcached /tmp/libmemcached
  git -C /tmp/libmemcached checkout 1.1.4
  /usr/bin/python3 spec/hash/vectors/make-libhashkit-fixtures.py /tmp/libmemcached
"""
import json
import os
import re
import sys

text = open(os.path.join(sys.argv[1], 'test', 'fixtures', 'hashes.hpp')).read()
words = re.findall(r'"([^"]*)"', text.split('static const char *input[]')[1].split('};')[0])
rows = {}
# Each row follows its "// name" comment; of an #ifdef pair, the first (built-in) row.
for name, body in re.findall(r'//\s*(\w+)\s*\n(?:#ifdef \w+\s*\n)?\s*\{([^}]*)\}', text):
    values = [int(v) for v in re.findall(r'(\d+)U?', body)]
    assert len(values) == len(words), name
    rows.setdefault(name, values)
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'libhashkit-fixtures.json')
with open(out, 'w') as f:
    json.dump({'source': 'libmemcached 1.1.4 test/fixtures/hashes.hpp', 'keys': words, 'hashes': rows}, f)
    f.write('\n')
print('wrote %s: %s' % (out, ', '.join(rows)))
