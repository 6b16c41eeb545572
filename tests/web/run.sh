#!/usr/bin/env bash
# The web stack tests: nginx in front of php-fpm with the extension, on loopback, against the
# bundled YouTube emulator. Runs tests/web/test_web.py (real HTTP with the curl CLI: the origin
# endpoint, the edge helper, the controllers) and the edge Worker's own tests
# (node --test php-examples/edge/) against the live origin.
#
#   tests/web/run.sh [SO_PATH]       default: build/vault_metadata.so
#   VAULT_WEB_KEEP=1 tests/web/run.sh   keep the temp dir (configs, logs, cache) for a post-mortem
#
# Needs nginx, php8.2-fpm, curl, python3, python3-msgpack, node + npm (scripts/install-deps.sh).
# Exits non-zero when anything fails; the last line is "web: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
source scripts/lib.sh

so=${1:-build/vault_metadata.so}
if [ ! -f "$so" ]; then
  echo "extension not found: $so (build it with scripts/build.sh)" >&2
  echo "web: 0 passed, 1 failed"
  exit 1
fi
so=$(realpath "$so")
php_fpm=${PHP_FPM:-/usr/sbin/php-fpm8.2}
nginx_bin=${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}

work=$(mktemp -d /tmp/vault-web.XXXXXX)
fpm_pid=""
nginx_pid=""
cleanup() {
  [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null && wait "$nginx_pid" 2>/dev/null
  [ -n "$fpm_pid" ] && kill "$fpm_pid" 2>/dev/null && wait "$fpm_pid" 2>/dev/null
  stop_emulator
  if [ -n "${VAULT_WEB_KEEP:-}" ]; then echo "kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

fail_setup() {
  echo "web stack: $*" >&2
  for log in "$work"/*.log; do [ -s "$log" ] && { echo "--- $log" >&2; tail -n 30 "$log" >&2; }; done
  echo "web: 0 passed, 1 failed"
  exit 1
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_until() {  # $1: tries of 0.1 s; the rest: a command
  local tries=$1
  shift
  for _ in $(seq "$tries"); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  return 1
}

start_emulator || fail_setup "the emulator did not start"

# ---------------------------------------------------------------------------------------- php-fpm
cat >"$work/php-fpm.conf" <<EOF
[global]
pid = $work/php-fpm.pid
error_log = $work/php-fpm.log
daemonize = no

[web]
listen = $work/php-fpm.sock
listen.mode = 0666
pm = static
pm.max_children = 4
catch_workers_output = yes
clear_env = no
env[VAULT_EXAMPLE_CATALOG] = $work/catalog.json
php_admin_flag[display_errors] = off
php_admin_flag[log_errors] = on
php_admin_value[error_log] = $work/php-errors.log
php_admin_value[max_execution_time] = 30
php_admin_value[vault_metadata.api_base] = $EMULATOR_URL/youtube/v3
php_admin_value[vault_metadata.api_key] = test-key
php_admin_value[vault_metadata.db_path] = $work/cache.sqlite
php_admin_value[vault_metadata.fetch_timeout_ms] = 3000
php_admin_value[vault_metadata.upstream_timeout_ms] = 3000
; no background refresh: the tests compare cached rows before and after, and count upstream calls
php_admin_value[vault_metadata.refresh_interval] = 600
php_admin_value[vault_metadata.refresh_budget_units] = 0
php_admin_value[vault_metadata.log_level] = info
EOF
echo '{}' >"$work/catalog.json"
"$php_fpm" -F -R -n -y "$work/php-fpm.conf" -d "extension=$so" >"$work/php-fpm.out.log" 2>&1 &
fpm_pid=$!
wait_until 100 test -S "$work/php-fpm.sock" || fail_setup "php-fpm did not start"

# ---------------------------------------------------------------------------------------- nginx
port=$(free_port)
user_line=""
[ "$(id -u)" -eq 0 ] && user_line="user root;"  # workers must reach the socket in our 0700 temp dir
fastcgi() {  # $1: the script
  printf 'include /etc/nginx/fastcgi_params;\n      fastcgi_param SCRIPT_FILENAME %s;\n      fastcgi_pass unix:%s;' \
    "$1" "$work/php-fpm.sock"
}
mkdir -p "$work/nginx-tmp"
cat >"$work/nginx.conf" <<EOF
$user_line
worker_processes 1;
daemon off;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 256; }
http {
  access_log $work/nginx-access.log;
  client_body_temp_path $work/nginx-tmp/body;
  fastcgi_temp_path $work/nginx-tmp/fastcgi;
  proxy_temp_path $work/nginx-tmp/proxy;
  uwsgi_temp_path $work/nginx-tmp/uwsgi;
  scgi_temp_path $work/nginx-tmp/scgi;
  # Above the origin's 64 KiB, so that the origin refuses large bodies itself, in the request's encoding.
  client_max_body_size 16m;
  server {
    listen 127.0.0.1:$port;
    location /v1/ {
      $(fastcgi "$root/php-examples/origin/index.php")
    }
    location = /watch {
      $(fastcgi "$root/php-examples/watch.php")
    }
    location = /category {
      $(fastcgi "$root/php-examples/category.php")
    }
    location ~ ^/_test/([a-z_]+\.php)\$ {
      $(fastcgi "$root/tests/web/www/\$1")
    }
    location / { return 404; }
  }
}
EOF
"$nginx_bin" -e "$work/nginx-error.log" -p "$work" -c "$work/nginx.conf" >"$work/nginx.out.log" 2>&1 &
nginx_pid=$!
web_url="http://127.0.0.1:$port"
wait_until 100 curl -sf -o /dev/null -X POST -H 'Content-Type: application/json' --data '{"video_ids":[]}' \
  "$web_url/v1/metadata/batch" || fail_setup "nginx + php-fpm did not answer on $web_url"
echo "web stack: nginx $web_url -> php-fpm ($so) -> emulator $EMULATOR_URL"

# ---------------------------------------------------------------------------------------- tests
passed=0
failed=0

export VAULT_WEB_URL=$web_url VAULT_EMULATOR_URL=$EMULATOR_URL VAULT_WEB_DB=$work/cache.sqlite \
  VAULT_WEB_CATALOG=$work/catalog.json VAULT_WEB_PHP_LOG=$work/php-errors.log
# Debian's python3-msgpack is for Debian's python3, which another python3 on PATH (pyenv) may hide.
py=python3
python3 -c 'import msgpack' 2>/dev/null || py=/usr/bin/python3
"$py" tests/web/test_web.py 2>&1 | tee "$work/python.out"
line=$(grep -E '^python: [0-9]+ passed, [0-9]+ failed$' "$work/python.out" | tail -n 1)
if [ -n "$line" ]; then
  passed=$((passed + $(echo "$line" | awk '{print $2}')))
  failed=$((failed + $(echo "$line" | awk '{print $4}')))
else
  failed=$((failed + 1))
fi

echo
echo "==> node --test php-examples/edge/"
if [ ! -d php-examples/edge/node_modules/@msgpack/msgpack ]; then
  # package-lock.json pins @msgpack/msgpack (the only dependency); node_modules is not committed.
  (cd php-examples/edge && npm ci --no-audit --no-fund --loglevel=error) || failed=$((failed + 1))
fi
VAULT_ORIGIN_URL=$web_url node --test --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination="$work/node.tap" php-examples/edge/*.test.js
node_rc=$?
node_pass=$(grep -E '^# pass [0-9]+' "$work/node.tap" | awk '{print $3}')
node_fail=$(grep -E '^# fail [0-9]+' "$work/node.tap" | awk '{print $3}')
passed=$((passed + ${node_pass:-0}))
failed=$((failed + ${node_fail:-0}))
if [ "$node_rc" -ne 0 ] && [ "${node_fail:-0}" -eq 0 ]; then failed=$((failed + 1)); fi

if grep -qE 'PHP (Fatal|Parse) error' "$work/php-errors.log" 2>/dev/null; then
  echo "PHP fatal errors in the log:"
  grep -E 'PHP (Fatal|Parse) error' "$work/php-errors.log" | head -n 5
  failed=$((failed + 1))
fi

echo
echo "web: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
