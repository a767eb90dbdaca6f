#!/usr/bin/env bash
# The project's test command (`make test`): formatting, lints, and every test, the
# integration tests against one local AWS emulator started and stopped for the run.
set -euo pipefail
cd "$(dirname "$0")/../.."

# Debian's Chromium (and a Korean font) for the dashboard's browser test
if [ ! -x /usr/bin/chromium ]; then
  echo "test: installing chromium for the dashboard test" >&2
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo=sudo; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium fonts-nanum >/dev/null
fi

infra/scripts/venv.sh deploy
# the dashboard's script: its modules' tests, and the served page built from them
infra/scripts/web.sh check
mkdir -p target
# The emulator's workarounds answer as moto does (a differential run; beside the build).
.venv/bin/python3 infra/scripts/test_moto_server.py 1000 >target/moto-check.log 2>&1 &
moto_check=$!
infra/scripts/lint-template.sh
# make deploy's retry of a failed first creation, against stand-ins
.venv/bin/python3 -m unittest -q infra/scripts/test_deploy.py
cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
infra/scripts/with-emulator.sh cargo test --workspace --locked 2>&1 | tee target/test.log
if ! wait "$moto_check"; then cat target/moto-check.log >&2; exit 1; fi
cat target/moto-check.log
# One closing line for the whole run, summed over every test binary.
awk '/^test result:/ { passed += $4; failed += $6; ignored += $8 }
     END { printf "tests: %d passed, %d failed, %d skipped\n", passed, failed, ignored }' target/test.log
