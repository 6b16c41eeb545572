#!/usr/bin/env bash
# Regenerates stubs/vault_metadata_arginfo.h from the stub with php-dev's gen_stub.php.
# With --check, regenerates into a scratch copy and fails when the committed header differs.
# gen_stub.php downloads PHP-Parser from the internet unless it finds it beside itself, so
# we run a copy of it next to Debian's php-parser package instead.
set -euo pipefail
cd "$(dirname "$0")/.."
gen_stub="$(php-config --extension-dir)/build/gen_stub.php"
[ -f "$gen_stub" ] || { echo "gen_stub.php not found (install php8.2-dev)" >&2; exit 1; }
[ -d /usr/share/php/PhpParser ] || { echo "PHP-Parser not found (install php-parser)" >&2; exit 1; }
version=$(grep -oE '\$version = "[0-9.]+"' "$gen_stub" | grep -oE '[0-9.]+')
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$gen_stub" "$work/gen_stub.php"
mkdir -p "$work/PHP-Parser-$version"
ln -s /usr/share/php "$work/PHP-Parser-$version/lib"
if [ "${1:-}" = "--check" ]; then
  cp stubs/vault_metadata.stub.php "$work/"
  php "$work/gen_stub.php" -f "$work/vault_metadata.stub.php" >/dev/null
  diff -u stubs/vault_metadata_arginfo.h "$work/vault_metadata_arginfo.h"
  echo "arginfo is up to date"
else
  php "$work/gen_stub.php" -f stubs/vault_metadata.stub.php
fi
