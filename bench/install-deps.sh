#!/usr/bin/env bash
# Installs the Debian 12 packages the benchmark suite needs on top of scripts/install-deps.sh;
# a no-op when they are all present. Needs root (or sudo) only when something is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

packages=(
  php8.2-cli php8.2-fpm php8.2-msgpack php8.2-sqlite3   # the extension's host, the two PHP baselines
  python3 python3-msgpack                               # the socket service (Debian's /usr/bin/python3)
  nginx wrk                                             # the php-fpm row
  valgrind strace                                       # instruction and syscall counts
  gnuplot-nox fonts-dejavu-core                         # the PNG
  curl
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
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
