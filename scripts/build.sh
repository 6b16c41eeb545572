#!/usr/bin/env bash
# Configures and builds the core, the extension and the unit tests into build/.
# Extra arguments go to cmake's configure step (e.g. -DVAULT_WERROR=ON).
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${VAULT_BUILD_DIR:-build}
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build "$build_dir" -j"$(nproc)"
