#!/usr/bin/env bash
# The PECL way: phpize, configure, make — in a scratch copy, since phpize writes its
# files into the source tree. Prints where the module is; `make install` is the user's.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-$(mktemp -d)}
mkdir -p "$out"
cp -r config.m4 src ext stubs "$out/"
cd "$out"
phpize >/dev/null
./configure --enable-vault_metadata >/dev/null
make -j"$(nproc)" >/dev/null
php -d "extension=$out/modules/vault_metadata.so" -r 'exit(extension_loaded("vault_metadata") ? 0 : 1);'
echo "$out/modules/vault_metadata.so"
