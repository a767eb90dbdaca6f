#!/usr/bin/env bash
# Runs a command with a fresh local AWS emulator on a free loopback port, passed to it in
# JOURNEY_EMULATOR_URL; stops the emulator afterwards.
set -euo pipefail
cd "$(dirname "$0")/../.."
infra/scripts/venv.sh
mkdir -p target
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
.venv/bin/python3 infra/scripts/moto_server.py -H 127.0.0.1 -p "$port" >"target/moto-$port.log" 2>&1 &
moto_pid=$!
trap 'kill "$moto_pid" 2>/dev/null || true; wait "$moto_pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
  if ! kill -0 "$moto_pid" 2>/dev/null; then cat "target/moto-$port.log" >&2; exit 1; fi
  sleep 0.1
done
export JOURNEY_EMULATOR_URL="http://127.0.0.1:$port"
echo "emulator on $JOURNEY_EMULATOR_URL" >&2
"$@"
