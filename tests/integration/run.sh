#!/usr/bin/env bash
# Runs the multi-process integration tests (php-fpm, php CLI, the YouTube emulator).
#   tests/integration/run.sh [BUILD_DIR]      default BUILD_DIR: build  (loads BUILD_DIR/vault_metadata.so)
# Extra unittest selection: VAULT_IT_PATTERN='test_quota*.py'. Keep temp dirs: VAULT_IT_KEEP=1.
# Needs php-fpm8.2, php (with pcntl), faketime (libfaketime), python3. Runs as root (php-fpm -R).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build_dir=${1:-build}
case "$build_dir" in /*) ;; *) build_dir="$root/$build_dir" ;; esac
export VAULT_EXT_SO="$build_dir/vault_metadata.so"
if [[ ! -f "$VAULT_EXT_SO" ]]; then
    echo "run.sh: $VAULT_EXT_SO not found; build it first (VAULT_BUILD_DIR=... scripts/build.sh)" >&2
    exit 2
fi
cd "$root"
set +e
python3 -m unittest discover -s tests/integration -t tests/integration -p "${VAULT_IT_PATTERN:-test_*.py}" -v
exit $?
