#!/usr/bin/env bash
# Installs the Debian 12 packages the benchmark suite needs on top of the project's own;
# a no-op when they are all present.
set -euo pipefail
cd "$(dirname "$0")/.."
exec scripts/install-deps.sh \
  php8.2-cli php8.2-fpm php8.2-msgpack php8.2-sqlite3 `# the extension's host, the two PHP baselines` \
  python3 python3-msgpack `# the socket service (Debian's /usr/bin/python3)` \
  nginx wrk `# the php-fpm row` \
  valgrind strace `# instruction and syscall counts` \
  gnuplot-nox fonts-dejavu-core `# the PNG` \
  curl
