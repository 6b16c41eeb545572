#!/usr/bin/env bash
# The operability tests (tests/ops/test_ops.py): healthz, the operator CLI, the event ring across
# php-fpm workers, the metrics push to a real VictoriaMetrics, IndexNow against a fake endpoint, and a
# privacy scan of everything the run produced.
#
#   tests/ops/run.sh [SO_PATH]            default: build/vault_metadata.so
#   VAULT_OPS_ONLY=IndexNow,Cli.test_usage_errors_exit_2 tests/ops/run.sh ...   a selection
#   VAULT_OPS_KEEP=1 tests/ops/run.sh ...  keep the work dir (logs, CLI output, databases, exports)
#
# Needs (Debian, scripts/install-deps.sh): php8.2-fpm, php8.2-cli (+ php8.2-sqlite3 for the CLI's
# lease view), victoria-metrics, faketime, gdb, e2fsprogs (chattr), python3. Runs as root (php-fpm -R,
# chattr +i, gdb attach). About 2.5 minutes on 2 cores.
# Exits non-zero when anything fails; the last line is "ops: N passed, N failed".
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
so=${1:-$root/build/vault_metadata.so}
case "$so" in /*) ;; *) so="$PWD/$so" ;; esac
if [[ ! -f "$so" ]]; then
  echo "extension not found: $so (build it with scripts/build.sh)" >&2
  echo "ops: 0 passed, 1 failed"
  exit 1
fi
export VAULT_EXT_SO=$(realpath "$so")
export VAULT_OPS_WORK=$(mktemp -d /tmp/vault-ops.XXXXXX)
cleanup() {
  # An interrupted health test may leave the cache immutable: rm could not remove it.
  find "$VAULT_OPS_WORK" -name '*.sqlite' -exec chattr -i {} + 2>/dev/null
  if [[ -n "${VAULT_OPS_KEEP:-}" ]]; then echo "kept: $VAULT_OPS_WORK"; else rm -rf "$VAULT_OPS_WORK"; fi
}
trap cleanup EXIT
cd "$root/tests/ops"
export PYTHONDONTWRITEBYTECODE=1
python3 test_ops.py 2>&1 | tee "$VAULT_OPS_WORK/run.log.txt"
rc=${PIPESTATUS[0]}
grep -qE '^ops: [0-9]+ passed, [0-9]+ failed$' "$VAULT_OPS_WORK/run.log.txt" || echo "ops: 0 passed, 1 failed"
exit "$rc"
