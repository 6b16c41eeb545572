#!/usr/bin/env bash
# The callgrind row: instructions (Ir) of the warm 50-id path, which do not move with machine noise.
#  - Ir per call = (total Ir of `callgrind.php N` - total Ir of `callgrind.php 0`) / N: the
#    PHP start-up, the module start-up and the first (untimed) call cancel out; what is left
#    is N warm calls plus N turns of a PHP for loop (a few dozen instructions each).
#  - where they go: the same two runs with --toggle-collect on vault_metadata_fetch_batch(),
#    so that only instructions executed inside the function count; callgrind_annotate's
#    listings of both, subtracted function by function and divided by N
#    (callgrind_report.php): self Ir by function and by library, inclusive Ir of the
#    extension's functions.
#  - syscalls per call: strace -c -f of the same two runs (N and 0), (count N - count 0) / N:
#    the kernel time callgrind does not see.
# Prints one JSON object. Needs BENCH_SO, EMULATOR_URL, BENCH_IDS_FILE, BENCH_EXT_DB (warm),
# BENCH_STATE_DIR. Optional: CALLS (1000), SIZE (50), TOP (12).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${BENCH_SO:?}" "${EMULATOR_URL:?}" "${BENCH_IDS_FILE:?}" "${BENCH_EXT_DB:?}" "${BENCH_STATE_DIR:?}"
CALLS=${CALLS:-1000}
SIZE=${SIZE:-50}
TOP=${TOP:-12}
dir=$BENCH_STATE_DIR/callgrind
mkdir -p "$dir"
php_args=(-n -d "extension=$BENCH_SO" -d "vault_metadata.db_path=$BENCH_EXT_DB"
  -d "vault_metadata.api_base=$EMULATOR_URL/youtube/v3" -d vault_metadata.api_key=bench)

run() {  # $1: output name, $2: calls, the rest: extra valgrind options
  local name=$1 calls=$2
  shift 2
  valgrind --tool=callgrind --callgrind-out-file="$dir/$name.out" "$@" \
    php "${php_args[@]}" "$here/callgrind.php" "$calls" "$SIZE" >"$dir/$name.log" 2>&1 || {
    echo "callgrind: the $name run failed:" >&2
    tail -n 20 "$dir/$name.log" >&2
    exit 1
  }
}
run zero 0
run calls "$CALLS"
for n in 0 "$CALLS"; do
  run "inside-$n" "$n" '--toggle-collect=zif_vault_metadata_fetch_batch(*'
  callgrind_annotate --auto=no --threshold=100 "$dir/inside-$n.out" >"$dir/inside-$n.txt" 2>/dev/null
  callgrind_annotate --auto=no --threshold=100 --inclusive=yes "$dir/inside-$n.out" >"$dir/inside-$n-inclusive.txt" 2>/dev/null
done
# Syscalls are where callgrind cannot look (kernel time): count them the same way, N vs 0.
strace -f -c -o "$dir/strace-zero.txt" php "${php_args[@]}" "$here/callgrind.php" 0 "$SIZE" >/dev/null
strace -f -c -o "$dir/strace-calls.txt" php "${php_args[@]}" "$here/callgrind.php" "$CALLS" "$SIZE" >/dev/null

php -n "$here/callgrind_report.php" "$dir" "$CALLS" "$SIZE" "$TOP"
