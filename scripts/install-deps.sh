#!/usr/bin/env bash
# Installs the Debian 12 packages that building, the demo and the tests need, plus any
# package named on the command line; a no-op when they are all present. Needs root (or
# sudo) only when something is missing.
set -euo pipefail

packages=(
  # build
  g++ make cmake pkg-config git ca-certificates
  php8.2-cli php8.2-dev php-parser
  libuv1-dev libcurl4-openssl-dev libsqlite3-dev libmsgpack-dev libsimdjson-dev
  googletest libgtest-dev
  # the emulator, the demo and the tests
  python3 curl sqlite3 valgrind faketime php8.2-fpm
  # the web stack tests (tests/web): nginx in front of php-fpm, msgpack bodies, the edge Worker's node tests
  nginx python3-msgpack nodejs
  # the ops tests (tests/ops): metrics push, killing a loop thread, an immutable cache file, the CLI's lease view
  victoria-metrics gdb e2fsprogs php8.2-sqlite3
)

packages+=("$@")

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Debian ships npm apart from nodejs; a NodeSource nodejs already brings its own.
command -v npm >/dev/null 2>&1 || missing+=(npm)
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing: ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "run as root to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
