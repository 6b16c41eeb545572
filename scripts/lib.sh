# Shared by the demo and test scripts: start and stop the bundled YouTube API emulator.

# Starts the emulator on an ephemeral loopback port; sets EMULATOR_URL and EMULATOR_PID.
start_emulator() {
  local dir
  dir=$(mktemp -d)
  python3 "$(dirname "${BASH_SOURCE[0]}")/../emulator/youtube_emulator.py" \
    --host 127.0.0.1 --port 0 --port-file "$dir/port" "$@" >"$dir/log" 2>&1 &
  EMULATOR_PID=$!
  for _ in $(seq 100); do
    [ -s "$dir/port" ] && break
    sleep 0.1
  done
  if [ ! -s "$dir/port" ]; then
    echo "the emulator did not start:" >&2
    cat "$dir/log" >&2
    return 1
  fi
  EMULATOR_URL="http://127.0.0.1:$(cat "$dir/port")"
  export EMULATOR_URL EMULATOR_PID
}

stop_emulator() {
  if [ -n "${EMULATOR_PID:-}" ]; then
    kill "$EMULATOR_PID" 2>/dev/null || true
    wait "$EMULATOR_PID" 2>/dev/null || true
    EMULATOR_PID=""
  fi
}
