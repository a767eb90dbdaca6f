#!/usr/bin/env bash
# Creates .venv and installs the project's Python tools into it; does nothing when up to date.
#   venv.sh          the emulator (infra/requirements.txt)
#   venv.sh deploy   and the deploy tools (infra/requirements-deploy.txt)
set -euo pipefail
cd "$(dirname "$0")/../.."
files=(infra/requirements.txt)
if [ "${1:-}" = "deploy" ]; then files+=(infra/requirements-deploy.txt); fi
for file in "${files[@]}"; do
  stamp=".venv/.installed-$(basename "$file" .txt)-$(sha256sum "$file" | cut -c1-16)"
  if [ -f "$stamp" ]; then continue; fi
  echo "venv: installing $file into .venv" >&2
  [ -x .venv/bin/pip ] || python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check -r "$file"
  rm -f ".venv/.installed-$(basename "$file" .txt)-"*
  touch "$stamp"
done
