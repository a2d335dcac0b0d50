"""A Python peer for the transcoder specs (pylibmc or python-memcache).

Reads one JSON request on stdin: {"server": "host:port", "client":
"pylibmc"|"memcache", "compress": int (min_compress_len, 0 = never),
"write": {key: spec}, "read": [key]}, stores every value, reads every key
back, and prints {"read": {key: {"t": type, "v": value} | {"missing": true}}}.
A spec is {"t": "str", "v"} | {"t": "bytes", "v": hex} | {"t": "int", "v":
"decimal"} | {"t": "bool", "v"} | {"t": "float", "v": "text"} |
{"t": "repeat", "v", "n"}.
"""
import json
import sys

request = json.load(sys.stdin)
name = request.get("client", "pylibmc")
if name == "pylibmc":
    import pylibmc
    client = pylibmc.Client([request["server"]])
else:
    import memcache
    client = memcache.Client([request["server"]])
compress = request.get("compress", 0)


def value_of(spec):
    t = spec["t"]
    if t == "str":
        return spec["v"]
    if t == "bytes":
        return bytes.fromhex(spec["v"])
    if t == "int":
        return int(spec["v"])
    if t == "bool":
        return bool(spec["v"])
    if t == "float":
        return float(spec["v"])
    if t == "repeat":
        return spec["v"] * spec["n"]
    raise ValueError("unknown spec type " + t)


def described(value):
    if isinstance(value, bool):
        return {"t": "bool", "v": value}
    if isinstance(value, int):
        return {"t": "int", "v": str(value)}
    if isinstance(value, float):
        return {"t": "float", "v": repr(value)}
    if isinstance(value, str):
        return {"t": "str", "v": value}
    if isinstance(value, bytes):
        return {"t": "bytes", "v": value.hex()}
    return {"t": type(value).__name__, "v": repr(value)}


for key, spec in request.get("write", {}).items():
    if not client.set(key, value_of(spec), min_compress_len=compress):
        sys.stderr.write("set %s failed\n" % key)
        sys.exit(1)
read = {}
for key in request.get("read", []):
    value = client.get(key)
    read[key] = {"missing": True} if value is None else described(value)
print(json.dumps({"read": read}))
