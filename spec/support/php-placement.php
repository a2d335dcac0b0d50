<?php
// Where PHP's Memcached extension (libmemcached underneath) places keys, for
// the placement spec: getServerByKey only hashes, it connects to nothing.
// A server's weight is 1 unless given (PHP's own default, 0, is not what a Ring can say).
//
// Reads one JSON request on stdin:
//   {"servers": ["host:port[:weight]", ...], "distribution": "ketama" | "libmemcached-consistent" | "modula",
//    "hash": "HASH_CRC" (a Memcached::HASH_* constant name) | 9 (a libmemcached number) | null, "keys": [key, ...]}
// and prints {"hashSet": bool, "hash": n, "placement": [server index per key]}. Options are set in the
// order a PHP program sets them: the distribution first, then OPT_HASH.
if (!extension_loaded('memcached')) {
    fwrite(STDERR, "the memcached extension is not loaded: apt-get install -y php-memcached\n");
    exit(2);
}
$request = json_decode(stream_get_contents(STDIN), true, 512, JSON_THROW_ON_ERROR);
$client = new Memcached();
switch ($request['distribution']) {
    case 'ketama':
        $ok = $client->setOption(Memcached::OPT_LIBKETAMA_COMPATIBLE, true);
        break;
    case 'libmemcached-consistent':
        $ok = $client->setOption(Memcached::OPT_DISTRIBUTION, Memcached::DISTRIBUTION_CONSISTENT);
        break;
    case 'modula':
        $ok = $client->setOption(Memcached::OPT_DISTRIBUTION, Memcached::DISTRIBUTION_MODULA);
        break;
    default:
        fwrite(STDERR, "unknown distribution\n");
        exit(2);
}
if (!$ok) {
    fwrite(STDERR, "setting the distribution failed: " . $client->getResultMessage() . "\n");
    exit(1);
}
$hashSet = true;
if ($request['hash'] !== null) {
    // @: a hash this libmemcached build lacks makes setOption warn and return false; the caller is told.
    // HASH_JENKINS has no PHP constant: its libmemcached number (9) is passed as is.
    $hash = is_int($request['hash']) ? $request['hash'] : constant('Memcached::' . $request['hash']);
    $hashSet = @$client->setOption(Memcached::OPT_HASH, $hash);
}
$servers = [];
$index = [];
foreach ($request['servers'] as $i => $spec) {
    $parts = explode(':', $spec);
    $servers[] = [$parts[0], (int) $parts[1], isset($parts[2]) ? (int) $parts[2] : 1];
    $index[$parts[0] . ':' . $parts[1]] = $i;
}
if (!$client->addServers($servers)) {
    fwrite(STDERR, "addServers failed: " . $client->getResultMessage() . "\n");
    exit(1);
}
$placement = [];
foreach ($request['keys'] as $key) {
    $server = $client->getServerByKey($key);
    if ($server === false) {
        fwrite(STDERR, "getServerByKey failed: " . $client->getResultMessage() . "\n");
        exit(1);
    }
    $placement[] = $index[$server['host'] . ':' . $server['port']];
}
echo json_encode(['hashSet' => $hashSet, 'hash' => $client->getOption(Memcached::OPT_HASH), 'placement' => $placement]);
