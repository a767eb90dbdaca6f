#!/usr/bin/env bash
# Creates .venv and installs infra/requirements.txt into it; does nothing when up to date.
set -euo pipefail
cd "$(dirname "$0")/../.."
stamp=".venv/.installed-$(sha256sum infra/requirements.txt | cut -c1-16)"
if [ -f "$stamp" ]; then
  exit 0
fi
echo "venv: installing infra/requirements.txt into .venv" >&2
python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check -r infra/requirements.txt
rm -f .venv/.installed-*
touch "$stamp"
