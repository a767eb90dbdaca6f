#!/usr/bin/env bash
# The dashboard's script (functions/api/web): `build` writes the page the api function serves,
# `install` only installs its tools (esbuild, playwright-core), `check` runs the modules' tests and fails if the checked-in page is not what they build.
set -euo pipefail
cd "$(dirname "$0")/../../functions/api/web"
if ! command -v npm >/dev/null; then
  echo "web: installing Node.js and npm for the dashboard's script" >&2
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo=sudo; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq nodejs npm >/dev/null
fi
if [ ! -x node_modules/.bin/esbuild ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
case "${1:-check}" in
  install) ;;
  build) npm run --silent build ;;
  check) npm test --silent && npm run --silent check ;;
  *) echo "usage: web.sh install|build|check" >&2; exit 2 ;;
esac
