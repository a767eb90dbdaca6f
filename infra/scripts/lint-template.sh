#!/usr/bin/env bash
# The deploy path, checked offline: cfn-lint and `sam validate --lint` on template.yaml, the API's
# OpenAPI document against the OpenAPI 3 schema, and no OpenSSL in the dependency tree
# (rustls/aws-lc only, so cross-compiling for arm64 works).
set -euo pipefail
cd "$(dirname "$0")/../.."
export SAM_CLI_TELEMETRY=0
.venv/bin/cfn-lint template.yaml
.venv/bin/sam validate --lint --config-file infra/samconfig.toml --region us-east-1
.venv/bin/openapi-spec-validator docs/openapi.yaml
if cargo tree --workspace -i openssl-sys >/dev/null 2>&1; then
  echo "openssl-sys is in the dependency tree:" >&2
  cargo tree --workspace -i openssl-sys >&2
  exit 1
fi
echo "template: cfn-lint and sam validate --lint pass; docs/openapi.yaml is valid; no openssl-sys"
