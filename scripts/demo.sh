#!/usr/bin/env bash
# Quick start, part one: installs what is missing, builds the extension and runs the demo:
# one batch fetched cold, then warm. Without VAULT_YOUTUBE_API_KEY it runs against the
# bundled YouTube API emulator on loopback; with it, against YouTube itself.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

scripts/install-deps.sh
scripts/build.sh

state=$(mktemp -d)
php_args=(-n -d "extension=$PWD/build/vault_metadata.so" -d "vault_metadata.db_path=$state/demo.sqlite")
if [ -z "${VAULT_YOUTUBE_API_KEY:-}" ]; then
  start_emulator --latency-ms 40
  trap 'stop_emulator; rm -rf "$state"' EXIT
  echo "No VAULT_YOUTUBE_API_KEY: using the bundled emulator at $EMULATOR_URL"
  php_args+=(-d "vault_metadata.api_base=$EMULATOR_URL/youtube/v3" -d "vault_metadata.api_key=emulator-demo-key")
  ids=$(curl -sf "$EMULATOR_URL/_control/ids?kind=any&count=50" | php -n -r 'echo implode(",", json_decode(stream_get_contents(STDIN), true)["ids"]);')
  export VAULT_DEMO_IDS="$ids"
else
  trap 'rm -rf "$state"' EXIT
fi
php "${php_args[@]}" php-examples/demo.php
