<?php
// A php-memcached peer for the transcoder specs. Reads one JSON request on
// stdin: { server: "host:port", compression: "fastlz"|"zlib", serializer:
// "php"|"json"|"json_array"|"igbinary"|"msgpack", threshold?: int,
// write: { key: spec }, read: [key], raw?: bool }, writes every value with
// Memcached::set, then reads every key back with Memcached::get, and prints
// { read: { key: { t: type, v: value } | { missing: code } } }.
// A spec is { t: "string", v } | { t: "int", v: "decimal" } | { t: "float",
// v: "text" } | { t: "bool", v } | { t: "null" } | { t: "array"|"object",
// v: "json text" } | { t: "repeat", v, n } | { t: "hex", v } (bytes).
$request = json_decode(stream_get_contents(STDIN), true, 512, JSON_THROW_ON_ERROR);
[$host, $port] = explode(':', $request['server']);
$m = new Memcached();
$m->addServer($host, (int) $port);
$m->setOption(Memcached::OPT_COMPRESSION, true);
$m->setOption(Memcached::OPT_COMPRESSION_TYPE,
    ($request['compression'] ?? 'fastlz') === 'zlib' ? Memcached::COMPRESSION_ZLIB : Memcached::COMPRESSION_FASTLZ);
$serializers = [
    'php' => Memcached::SERIALIZER_PHP, 'json' => Memcached::SERIALIZER_JSON, 'json_array' => Memcached::SERIALIZER_JSON_ARRAY,
    'igbinary' => Memcached::SERIALIZER_IGBINARY, 'msgpack' => Memcached::SERIALIZER_MSGPACK,
];
$m->setOption(Memcached::OPT_SERIALIZER, $serializers[$request['serializer'] ?? 'php']);
if (isset($request['threshold'])) ini_set('memcached.compression_threshold', (string) $request['threshold']);

function value_of(array $spec) {
    switch ($spec['t']) {
        case 'string': return $spec['v'];
        case 'int': return intval($spec['v']);
        case 'float': return (float) $spec['v'];
        case 'bool': return (bool) $spec['v'];
        case 'null': return null;
        case 'array': return json_decode($spec['v'], true, 512, JSON_THROW_ON_ERROR);
        case 'object': return json_decode($spec['v'], false, 512, JSON_THROW_ON_ERROR);
        case 'repeat': return str_repeat($spec['v'], $spec['n']);
        case 'hex': return hex2bin($spec['v']);
    }
    throw new Exception('unknown spec type ' . $spec['t']);
}

function described($value) {
    if (is_string($value)) {
        return preg_match('//u', $value) === 1 ? ['t' => 'string', 'v' => $value] : ['t' => 'binary', 'v' => bin2hex($value)];
    }
    if (is_int($value)) return ['t' => 'int', 'v' => (string) $value];
    if (is_float($value)) {
        if (is_nan($value)) return ['t' => 'float', 'v' => 'NaN'];
        if (is_infinite($value)) return ['t' => 'float', 'v' => $value > 0 ? 'Infinity' : '-Infinity'];
        return ['t' => 'float', 'v' => sprintf('%.17g', $value)];
    }
    if (is_bool($value)) return ['t' => 'bool', 'v' => $value];
    if (is_null($value)) return ['t' => 'null'];
    if (is_array($value)) return ['t' => 'array', 'v' => json_encode($value, JSON_PRESERVE_ZERO_FRACTION | JSON_THROW_ON_ERROR)];
    if (is_object($value)) return ['t' => 'object', 'class' => get_class($value), 'v' => json_encode($value, JSON_PRESERVE_ZERO_FRACTION | JSON_THROW_ON_ERROR)];
    return ['t' => gettype($value)];
}

foreach ($request['write'] ?? [] as $key => $spec) {
    if (!$m->set($key, value_of($spec))) {
        fwrite(STDERR, "set $key failed: " . $m->getResultMessage() . "\n");
        exit(1);
    }
}
$read = [];
foreach ($request['read'] ?? [] as $key) {
    $value = @$m->get($key);
    $code = $m->getResultCode();
    $read[$key] = $code === Memcached::RES_SUCCESS ? described($value) : ['missing' => $code, 'message' => $m->getResultMessage()];
}
echo json_encode(['read' => (object) $read], JSON_THROW_ON_ERROR), "\n";
