#!/usr/bin/env bash
# The fpm row: php-fpm (pool of 2 static workers on a 127.0.0.1 port, Debian's fpm php.ini,
# opcache on, the extension loaded with -d) behind nginx (one FastCGI connection per request), driven by wrk.
#  1. wrk against controller.php (one warm 50-id fetch per request): requests/s, latency;
#     then the same against controller.php?impl=plain (the plain-PHP baseline) for scale.
#  2. RSS of each worker (VmRSS from /proc/PID/status) after at least RSS_FIRST and RSS_LAST
#     calls in that worker, driven by controller.php?loop=LOOP requests two at a time (one per
#     worker); the calls wrk made before are not attributed to a worker and not counted, so
#     the counts are lower bounds.
# Prints one JSON object. Needs: BENCH_SO, EMULATOR_URL, BENCH_STATE_DIR, BENCH_IDS_FILE,
# BENCH_EXT_DB (a warm cache of those ids), BENCH_PLAIN_DB (likewise for the baseline).
# Optional: WRK_SECONDS (10), WRK_CONNECTIONS (4), RSS_FIRST (10000), RSS_LAST (100000), LOOP (1000).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${BENCH_SO:?}" "${EMULATOR_URL:?}" "${BENCH_STATE_DIR:?}" "${BENCH_IDS_FILE:?}" "${BENCH_EXT_DB:?}" "${BENCH_PLAIN_DB:?}"
WRK_SECONDS=${WRK_SECONDS:-10}
WRK_CONNECTIONS=${WRK_CONNECTIONS:-4}
RSS_FIRST=${RSS_FIRST:-10000}
RSS_LAST=${RSS_LAST:-100000}
LOOP=${LOOP:-1000}

dir=$BENCH_STATE_DIR/fpm
mkdir -p "$dir/nginx"
free_port() { php -n -r '$s = stream_socket_server("tcp://127.0.0.1:0"); echo explode(":", stream_socket_get_name($s, false))[1];'; }
fpm_port=$(free_port)
http_port=$(free_port)
php -n -r 'echo "<?php return ", var_export(json_decode(file_get_contents($argv[1]), true), true), ";\n";' \
  "$BENCH_IDS_FILE" >"$dir/ids.php"

cat >"$dir/php-fpm.conf" <<EOF
[global]
pid = $dir/php-fpm.pid
error_log = $dir/php-fpm.log
daemonize = no

[bench]
listen = 127.0.0.1:$fpm_port
pm = static
pm.max_children = 2
pm.max_requests = 0
catch_workers_output = yes
env[BENCH_IDS_PHP] = $dir/ids.php
env[BENCH_PLAIN_DB] = $BENCH_PLAIN_DB
php_admin_value[vault_metadata.db_path] = $BENCH_EXT_DB
php_admin_value[vault_metadata.api_base] = $EMULATOR_URL/youtube/v3
php_admin_value[vault_metadata.api_key] = bench
php_admin_value[error_log] = $dir/php-errors.log
EOF

cat >"$dir/nginx.conf" <<EOF
daemon off;
user root;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/nginx-error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $dir/nginx/body;
  fastcgi_temp_path $dir/nginx/fastcgi;
  proxy_temp_path $dir/nginx/proxy;
  uwsgi_temp_path $dir/nginx/uwsgi;
  scgi_temp_path $dir/nginx/scgi;
  server {
    listen 127.0.0.1:$http_port;
    location / {
      include /etc/nginx/fastcgi_params;
      fastcgi_param SCRIPT_FILENAME $here/controller.php;
      # No FastCGI keep-alive: a php-fpm worker stays bound to a kept connection, so with
      # more nginx connections than workers some requests would wait for an idle timeout.
      fastcgi_pass 127.0.0.1:$fpm_port;
    }
  }
}
EOF

fpm_pid=""
nginx_pid=""
cleanup() {
  [ -n "$nginx_pid" ] && kill -QUIT "$nginx_pid" 2>/dev/null && wait "$nginx_pid" 2>/dev/null
  [ -n "$fpm_pid" ] && kill -QUIT "$fpm_pid" 2>/dev/null && wait "$fpm_pid" 2>/dev/null
  true
}
trap cleanup EXIT

php-fpm8.2 -R -y "$dir/php-fpm.conf" -d "extension=$BENCH_SO" >"$dir/php-fpm.out" 2>&1 &
fpm_pid=$!
nginx -p "$dir/nginx" -c "$dir/nginx.conf" -e "$dir/nginx-error.log" >"$dir/nginx.out" 2>&1 &
nginx_pid=$!
url="http://127.0.0.1:$http_port/controller.php"
for _ in $(seq 100); do
  curl -sf "$url" >/dev/null 2>&1 && break
  sleep 0.1
done
if ! curl -sf "$url" | grep -q '"items":50'; then
  echo "fpm: the controller did not answer 50 items:" >&2
  curl -s "$url" >&2 || true
  cat "$dir"/*.log "$dir"/*.out >&2 2>/dev/null || true
  exit 1
fi
workers=$(pgrep -P "$fpm_pid" | tr '\n' ' ')
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
declare -A calls rss_start rss_first rss_last
for w in $workers; do
  calls[$w]=0
  rss_start[$w]=$(rss_kb "$w")
done

# Warm both workers (their engine, SQLite pool and opcache) before wrk measures them.
# (`wait $!`, never a bare `wait`: that would wait for php-fpm and nginx too.)
for _ in $(seq 20); do curl -sf "$url" >/dev/null & curl -sf "$url" >/dev/null; wait $!; done
for _ in $(seq 5); do curl -sf "$url?impl=plain" >/dev/null & curl -sf "$url?impl=plain" >/dev/null; wait $!; done

wrk -t1 -c"$WRK_CONNECTIONS" -d"${WRK_SECONDS}s" --latency "$url" >"$dir/wrk-ext.txt"
wrk -t1 -c"$WRK_CONNECTIONS" -d"${WRK_SECONDS}s" --latency "$url?impl=plain" >"$dir/wrk-plain.txt"
for w in $workers; do rss_start[$w]=$(rss_kb "$w"); done  # after wrk: the start of the RSS phase

min_calls() {
  local m=-1
  for w in $workers; do
    if [ "$m" -lt 0 ] || [ "${calls[$w]}" -lt "$m" ]; then m=${calls[$w]}; fi
  done
  echo "$m"
}
drive_until() {  # $1: calls every worker must have made
  while [ "$(min_calls)" -lt "$1" ]; do
    curl -sf "$url?loop=$LOOP" >"$dir/r1" & curl -sf "$url?loop=$LOOP" >"$dir/r2"
    wait $!
    for f in "$dir/r1" "$dir/r2"; do
      pid=$(sed -n 's/.*"pid":\([0-9]*\).*/\1/p' "$f")
      n=$(sed -n 's/.*"calls":\([0-9]*\).*/\1/p' "$f")
      [ -n "$pid" ] && [ -n "${calls[$pid]+x}" ] || { echo "fpm: unexpected answer: $(cat "$f")" >&2; exit 1; }
      calls[$pid]=$((calls[$pid] + n))
    done
  done
}
t0=$(date +%s.%N)
drive_until "$RSS_FIRST"
for w in $workers; do rss_first[$w]=$(rss_kb "$w"); done
first_calls=$(for w in $workers; do printf '%s:%s ' "$w" "${calls[$w]}"; done)
drive_until "$RSS_LAST"
for w in $workers; do rss_last[$w]=$(rss_kb "$w"); done
t1=$(date +%s.%N)

{
  for w in $workers; do
    echo "$w ${rss_start[$w]} ${rss_first[$w]} ${rss_last[$w]} ${calls[$w]}"
  done
} >"$dir/rss.txt"
php -n -r '
function wrk(string $f): array {
    $t = file_get_contents($f);
    $unit = static fn ($v, $u) => $v * ["us" => 0.001, "ms" => 1, "s" => 1000][$u];
    preg_match("/Requests\/sec:\s+([\d.]+)/", $t, $rps);
    $lat = [];
    foreach (["50", "90", "99"] as $p) {
        preg_match("/^\s+$p%\s+([\d.]+)(us|ms|s)\s*$/m", $t, $m);
        $lat["p{$p}_ms"] = $m ? round($unit((float) $m[1], $m[2]), 3) : null;
    }
    preg_match("/(\d+) requests in/", $t, $n);
    preg_match("/Non-2xx or 3xx responses: (\d+)/", $t, $bad);
    return ["requests_per_s" => (float) ($rps[1] ?? 0), "requests" => (int) ($n[1] ?? 0),
            "non_2xx" => (int) ($bad[1] ?? 0)] + $lat;
}
[$dir, $secs, $conns, $first, $last, $drive_s, $first_calls] = array_slice($argv, 1);
$workers = [];
foreach (file("$dir/rss.txt", FILE_IGNORE_NEW_LINES | FILE_SKIP_EMPTY_LINES) as $line) {
    [$pid, $start, $a, $b, $calls] = array_map("intval", explode(" ", $line));
    $workers[] = ["pid" => $pid, "calls" => $calls, "rss_start_kb" => $start, "rss_first_kb" => $a,
                  "rss_last_kb" => $b, "change_pct" => round(($b - $a) * 100 / $a, 2)];
}
echo json_encode(["wrk_seconds" => (int) $secs, "wrk_connections" => (int) $conns,
    "ext" => wrk("$dir/wrk-ext.txt"), "plain" => wrk("$dir/wrk-plain.txt"),
    "rss_first_calls" => (int) $first, "rss_last_calls" => (int) $last, "first_counts" => trim($first_calls),
    "drive_seconds" => round((float) $drive_s, 1), "workers" => $workers], JSON_PRETTY_PRINT), "\n";
' "$dir" "$WRK_SECONDS" "$WRK_CONNECTIONS" "$RSS_FIRST" "$RSS_LAST" "$(awk "BEGIN { print $t1 - $t0 }")" "$first_calls"
