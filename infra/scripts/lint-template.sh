#!/usr/bin/env bash
# The deploy path, checked offline: cfn-lint (with its informational checks and AWS's Serverless
# Rules) and `sam validate --lint` on template.yaml, the API's
# OpenAPI document against the OpenAPI 3 schema, no OpenSSL in the dependency tree
# (rustls/aws-lc only, so cross-compiling for arm64 works), and a domain crate that reaches
# neither AWS nor an async runtime nor HTTP.
set -euo pipefail
cd "$(dirname "$0")/../.."
export SAM_CLI_TELEMETRY=0
# -c I: the informational checks too (explicit deletion policies …). -a: the Serverless Rules
# (cfn-lint-serverless); each per-resource suppression in template.yaml says why. WS1004 is
# ignored here: it recognises a function's log group only by a name built from the function's
# Ref, which LoggingConfig.LogGroup would make a cycle; tests/tests/template.rs checks that every
# function logs to a group of the template with a retention. WS1000 (X-Ray active tracing) too:
# the code makes no segments, so tracing would bill Lambda's bare invoke segment for nothing
# (template.yaml, Globals; tests/tests/template.rs holds tracing off).
.venv/bin/cfn-lint template.yaml --include-checks I --append-rules cfn_lint_serverless.rules \
  --ignore-checks WS1004 WS1000
.venv/bin/sam validate --lint --config-file infra/samconfig.toml --region us-east-1
.venv/bin/openapi-spec-validator docs/openapi.yaml
# every role the transformed template creates carries the permissions boundary; the deployer
# policies lint clean and may create or write roles only with it (security review M5)
.venv/bin/python infra/scripts/check-iam.py 2> >(grep -v "Feature Toggle" >&2)
# Each tree is read first, so a workspace cargo cannot load fails here instead of passing for
# a clean one.
tree=$(cargo tree --workspace --prefix none)
if grep -q '^openssl-sys ' <<<"$tree"; then
  echo "openssl-sys is in the dependency tree:" >&2
  cargo tree --workspace -i openssl-sys >&2
  exit 1
fi
domain=$(cargo tree -p journey-domain -e normal --prefix none)
impure=$(grep -E '^(aws|tokio|hyper|http|reqwest|lambda_runtime|futures)' <<<"$domain" || true)
if [ -n "$impure" ]; then
  echo "journey-domain must stay pure; it depends on:" >&2
  echo "$impure" | sort -u >&2
  exit 1
fi
# the application crate reaches AWS only through the adapters crate
app=$(cargo tree -p journey -e normal --prefix none)
sdk=$(grep -E '^(aws-config|aws-sdk-|aws-smithy|aws-runtime|aws-types|reqwest)' <<<"$app" || true)
if [ -n "$sdk" ]; then
  echo "journey (ports and use cases) must not depend on an AWS SDK; it depends on:" >&2
  echo "$sdk" | sort -u >&2
  exit 1
fi
echo "template: cfn-lint (informational checks, serverless rules) and sam validate --lint pass; the IAM checks pass; docs/openapi.yaml is valid; no openssl-sys; journey-domain is pure; journey has no AWS SDK"
