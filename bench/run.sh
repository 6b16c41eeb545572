#!/usr/bin/env bash
# The benchmark suite, in one command: installs what it needs, builds the extension, starts
# the YouTube API emulator, runs every measurement, prints the markdown table and writes
# bench/results/latest.md, bench/results/warm.png and the raw JSON beside them.
#
#   bench/run.sh [--quick] [--publish] [--no-build]
#     --quick     fewer iterations and calls (about a minute) — for a look, not for numbers to quote
#     --publish   also copy the plot to docs/bench-warm.png (the committed one the README shows)
#     --no-build  use the .so already in $VAULT_BUILD_DIR
#   VAULT_BUILD_DIR  where to build (default build-bench)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
quick=0 publish=0 build=1
for arg in "$@"; do
  case $arg in
    --quick) quick=1 ;;
    --publish) publish=1 ;;
    --no-build) build=0 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "bench/run.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done
source scripts/lib.sh
started=$(date +%s)
say() { printf '==> [%3d s] %s\n' "$(( $(date +%s) - started ))" "$*" >&2; }

bench/install-deps.sh >&2
build_dir=${VAULT_BUILD_DIR:-build-bench}
if [ "$build" -eq 1 ]; then
  say "build ($build_dir)"
  VAULT_BUILD_DIR=$build_dir scripts/build.sh >/dev/null
fi
so=$root/$build_dir/vault_metadata.so
[ -f "$so" ] || { echo "bench/run.sh: $so is missing" >&2; exit 1; }

if [ "$quick" -eq 1 ]; then
  mode=quick
  it_ext=3000 it_plain=3000 it_socket=1000 it_floor=3000
  cold_reps=1
  export WRK_SECONDS=3 RSS_FIRST=2000 RSS_LAST=20000 LOOP=500 CALLS=200
else
  mode=full
  it_ext=20000 it_plain=20000 it_socket=5000 it_floor=20000
  cold_reps=3
  export WRK_SECONDS=10 RSS_FIRST=10000 RSS_LAST=100000 LOOP=1000 CALLS=1000
fi

results=$root/bench/results
mkdir -p "$results"
rm -f "$results"/*.json "$results"/warm.dat
state=$(mktemp -d "${TMPDIR:-/tmp}/vault-bench.XXXXXX")
service_pid=""
cleanup() {
  if [ -n "$service_pid" ]; then kill "$service_pid" 2>/dev/null || true; wait "$service_pid" 2>/dev/null || true; fi
  stop_emulator
  rm -rf "$state"
}
trap cleanup EXIT

start_emulator >&2
export EMULATOR_URL BENCH_STATE_DIR=$state BENCH_SO=$so
export BENCH_IDS_FILE=$state/ids.json BENCH_EXT_DB=$state/ext.sqlite BENCH_PLAIN_DB=$state/plain.sqlite
export BENCH_SOCKET=$state/service.sock
curl -sf "$EMULATOR_URL/_control/ids?kind=any&count=50" |
  php -n -r 'echo json_encode(json_decode(stream_get_contents(STDIN), true)["ids"]);' >"$BENCH_IDS_FILE"
# The same PHP for every CLI row: the distribution's php.ini (msgpack, PDO) plus the extension.
php_ext=(php -d "extension=$so" -d "vault_metadata.db_path=$BENCH_EXT_DB"
  -d "vault_metadata.api_base=$EMULATOR_URL/youtube/v3" -d vault_metadata.api_key=bench)

cat >"$results/meta.json" <<EOF
{"date": "$(date -u '+%Y-%m-%d %H:%M UTC')", "mode": "$mode",
 "cpu": "$(nproc) × $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1 | sed 's/  */ /g')",
 "php": "$(php -r 'echo PHP_VERSION;')", "sqlite": "$(php -r 'echo (new PDO("sqlite::memory:"))->query("select sqlite_version()")->fetchColumn();')",
 "so": "$build_dir/vault_metadata.so", "loadavg": "$(cut -d' ' -f1-3 /proc/loadavg)", "warmup": "10%"}
EOF

say "warm: vault_metadata ($it_ext iterations per size)"
"${php_ext[@]}" bench/warm.php --impl=ext --iterations=$it_ext >"$results/warm-ext.json"
say "warm: plain PHP ($it_plain)"
"${php_ext[@]}" bench/warm.php --impl=plain --iterations=$it_plain >"$results/warm-plain.json"
say "warm: floors ($it_floor)"
"${php_ext[@]}" bench/warm.php --impl=floor-copy --iterations=$it_floor >"$results/warm-floor-copy.json"
"${php_ext[@]}" bench/warm.php --impl=floor-static --iterations=$it_floor >"$results/warm-floor-static.json"
say "warm: socket service ($it_socket)"
/usr/bin/python3 bench/socket_service.py --socket "$BENCH_SOCKET" --db "$state/service.sqlite" \
  --api-base "$EMULATOR_URL/youtube/v3" >"$state/service.log" 2>&1 &
service_pid=$!
for _ in $(seq 100); do grep -q ready "$state/service.log" && break; sleep 0.1; done
grep -q ready "$state/service.log" || { echo "the socket service did not start:" >&2; cat "$state/service.log" >&2; exit 1; }
"${php_ext[@]}" bench/warm.php --impl=socket --iterations=$it_socket >"$results/warm-socket.json"
kill "$service_pid"; wait "$service_pid" 2>/dev/null || true; service_pid=""

say "cold: 50/200/1000 ids at 20 and 100 ms latency ($cold_reps run(s) each)"
"${php_ext[@]}" bench/cold.php --reps=$cold_reps --plain >"$results/cold.json"

say "php-fpm + nginx + wrk (${WRK_SECONDS}s), then RSS to $RSS_LAST calls per worker"
bench/fpm.sh >"$results/fpm.json"

say "callgrind ($CALLS warm calls) and strace"
bench/callgrind.sh >"$results/callgrind.json"

php bench/report.php "$results" >"$results/latest.md"
gnuplot -e "datafile='$results/warm.dat'; outfile='$results/warm.png'; subtitle='$(php -n -r '$m = json_decode(file_get_contents($argv[1]), true); echo addslashes("{$m["date"]}, {$m["mode"]} run, {$m["cpu"]}, PHP {$m["php"]}");' "$results/meta.json")'" bench/plot.gp
if [ "$publish" -eq 1 ]; then
  mkdir -p docs
  cp "$results/warm.png" docs/bench-warm.png
  say "published docs/bench-warm.png"
fi
cat "$results/latest.md"
say "done: bench/results/latest.md, bench/results/warm.png"
