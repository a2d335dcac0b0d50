#!/usr/bin/env bash
# Installs the system packages the specs use, on Debian or Ubuntu (as root, or with sudo):
#   memcached        the server every spec starts (memcached -Z for TLS, -S / -Y for authentication)
#   sasl2-bin        saslpasswd2, which makes the sasldb for memcached -S
#   openssl          makes the test certificates
#   python3-pylibmc  libmemcached under Debian's own python3, for the interop specs
#   python3-memcache python-memcache (crc placement, its flags), for the interop specs
#   php-cli, php-memcached  PHP's libmemcached client (flags, compression, OPT_HASH placement)
#   nutcracker       twemproxy, the text-protocol proxy the text codec is tested through
# Installs only what is missing; .ci/run calls it, so CI and a contributor's machine check the same things.
set -euo pipefail

need=()
command -v memcached >/dev/null 2>&1 || need+=(memcached)
command -v saslpasswd2 >/dev/null 2>&1 || need+=(sasl2-bin)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
/usr/bin/python3 -c 'import pylibmc' >/dev/null 2>&1 || need+=(python3-pylibmc)
/usr/bin/python3 -c 'import memcache' >/dev/null 2>&1 || need+=(python3-memcache)
command -v php >/dev/null 2>&1 || need+=(php-cli)
php -r 'exit(class_exists("Memcached") ? 0 : 1);' >/dev/null 2>&1 || need+=(php-memcached)
command -v nutcracker >/dev/null 2>&1 || need+=(nutcracker)

if [ ${#need[@]} -eq 0 ]; then
  echo "system packages: all present"
else
  echo "installing: ${need[*]}"
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
memcached -V
