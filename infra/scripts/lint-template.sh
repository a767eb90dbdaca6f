#!/usr/bin/env bash
# The deploy path, checked offline: cfn-lint and `sam validate --lint` on template.yaml, the API's
# OpenAPI document against the OpenAPI 3 schema, no OpenSSL in the dependency tree
# (rustls/aws-lc only, so cross-compiling for arm64 works), and a domain crate that reaches
# neither AWS nor an async runtime nor HTTP.
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
impure=$(cargo tree -p journey-domain -e normal --prefix none |
  grep -E '^(aws|tokio|hyper|http|reqwest|lambda_runtime|futures)' || true)
if [ -n "$impure" ]; then
  echo "journey-domain must stay pure; it depends on:" >&2
  echo "$impure" | sort -u >&2
  exit 1
fi
# the application crate reaches AWS only through the adapters crate
sdk=$(cargo tree -p journey -e normal --prefix none |
  grep -E '^(aws-config|aws-sdk-|aws-smithy|aws-runtime|aws-types|reqwest)' || true)
if [ -n "$sdk" ]; then
  echo "journey (ports and use cases) must not depend on an AWS SDK; it depends on:" >&2
  echo "$sdk" | sort -u >&2
  exit 1
fi
echo "template: cfn-lint and sam validate --lint pass; docs/openapi.yaml is valid; no openssl-sys; journey-domain is pure; journey has no AWS SDK"
