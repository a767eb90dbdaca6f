#!/usr/bin/env bash
# Stores Journey's secrets as SSM Parameter Store SecureStrings under <prefix>/<env>/<name>, the
# paths the functions read (template.yaml: SecretsPrefix, default /journey, and EnvName).
#
#   infra/scripts/put-secrets.sh ENV [PREFIX]        e.g. infra/scripts/put-secrets.sh prod
#
# For each secret it says whether one is stored, then asks for a new value without echoing it.
# An empty answer keeps what is stored (or leaves the secret unset). The random ones
# (app-webhook, unsubscribe-key, api-key) can be generated instead of typed. A new value can be
# put in front of the stored one(s), space-separated, for a rotation (docs/deploy.md, step 5).
#
# Values never appear on a command line (visible in `ps`): each is written with bash builtins
# to a mode-600 temporary file that `aws ssm put-parameter --cli-input-json file://…` reads, and
# the file is emptied after each use and removed on exit. Generated values are not printed;
# read one back with `aws ssm get-parameter --with-decryption --name …` when you need it.
#
# Account, region and credentials are the AWS CLI's own (AWS_PROFILE, AWS_REGION, or the
# profile's region); the script prints them and asks before writing anything.
set -euo pipefail

usage() {
  echo "usage: $0 ENV [PREFIX]   (ENV: the stack's EnvName, e.g. prod; PREFIX: SecretsPrefix, default /journey)" >&2
  exit 2
}
die() { echo "put-secrets: $*" >&2; exit 1; }

if [ $# -lt 1 ] || [ $# -gt 2 ]; then usage; fi
env_name=$1
prefix=${2:-/journey}
# the template's AllowedPatterns for EnvName and SecretsPrefix
[[ $env_name =~ ^[a-z0-9-]+$ ]] || die "ENV must match [a-z0-9-]+ (the template's EnvName), got '$env_name'"
[[ $prefix =~ ^(/[A-Za-z0-9_.-]+)+$ ]] || die "PREFIX must look like /journey (the template's SecretsPrefix), got '$prefix'"
path="$prefix/$env_name"

command -v aws >/dev/null || die "the AWS CLI (aws) is not on PATH"

# ---- the temporary file that carries a value to the CLI -------------------------------------
umask 077
tmp=$(mktemp "${TMPDIR:-/tmp}/put-secrets.XXXXXX")
errs=$(mktemp "${TMPDIR:-/tmp}/put-secrets-err.XXXXXX")
cleanup() {
  : >"$tmp" 2>/dev/null || true
  rm -f "$tmp" "$errs"
  # a Ctrl-C during `read -s` must not leave the terminal without echo
  if [ -t 0 ]; then stty echo 2>/dev/null || true; fi
}
trap cleanup EXIT
trap 'echo >&2; exit 130' INT
trap 'exit 143' TERM HUP

# ---- where we are about to write ----------------------------------------------------------
region=${AWS_REGION:-${AWS_DEFAULT_REGION:-$(aws configure get region 2>/dev/null || true)}}
[ -n "$region" ] || die "no region: set AWS_REGION, or a region in the AWS CLI profile"
account=$(aws sts get-caller-identity --query Account --output text 2>"$errs") \
  || die "no usable AWS credentials: $(cat "$errs")"

echo "Secrets for Journey, environment '$env_name'" >&2
echo "  account $account, region $region, parameters under $path/" >&2
read -r -p "Continue? [y/N] " answer
[[ $answer =~ ^[Yy] ]] || die "nothing written"

# ---- the secrets the template's functions read (their ssm:GetParameter resources) -----------
# name | what it holds | who reads it | kind
#   gen-standard: may be generated as whsec_ + base64 of 32 random bytes
#   gen-base64:   may be generated as base64 of 32 random bytes
#   gen-hex:      may be generated as admin_ + 48 hex digits (24 random bytes): an admin API key
#   standard:     a Standard Webhooks secret from a provider (whsec_ + base64)
#   text:         anything the provider issued
secrets=(
  "stripe-webhook|Stripe's endpoint signing secret (whsec_…), from the Stripe dashboard once the endpoint exists|ingest; unset: /webhooks/stripe answers 503|text"
  "app-webhook|your app's Standard Webhooks secret, which the app signs its events with|ingest; unset: /events answers 503|gen-standard"
  "toss-secret-key|Toss Payments' API secret key (live_sk_…), to confirm its webhooks|ingest; unset: /webhooks/toss answers 503|text"
  "portone-webhook|PortOne V2's webhook secret (whsec_…), from its console|ingest; with portone-api-secret, or /webhooks/portone answers 503|standard"
  "portone-api-secret|a PortOne V2 API secret, to read payments back|ingest; with portone-webhook|text"
  "unsubscribe-key|the key that signs one-click unsubscribe links|email-sender, ingest; REQUIRED: the e-mail sender does not start without it|gen-base64"
  "api-key|the API keys (admin_…, read_… or ingest_…) clients send as x-api-key|api; unset: every request is refused (401)|gen-hex"
  "calibration-sample-key|the key of the order calibration samples customers in (an attacker who knew it could steer what it learns)|calibrate; REQUIRED: the weekly calibration does not start without it|gen-base64"
  "solapi-api-key|Solapi's API key (TextProvider=solapi), from its console|text-sender; needed once the rules send texts|text"
  "solapi-api-secret|Solapi's API secret, which every request is signed with|text-sender; with solapi-api-key|text"
  "solapi-webhook-token|the token in Solapi's report webhook URL (/webhooks/solapi?token=…): Solapi signs no report|ingest; unset: /webhooks/solapi answers 503|gen-base64"
  "nhn-app-key|NHN Cloud KakaoTalk Bizmessage's app key (TextProvider=nhn)|text-sender, ingest; needed once the rules send texts|text"
  "nhn-secret-key|NHN Cloud's secret key (X-Secret-Key)|text-sender; with nhn-app-key|text"
  "nhn-webhook-signature|the value typed as the signature in NHN Cloud's webhook console (sent back as X-Toast-Webhook-Signature)|ingest; with nhn-app-key, or /webhooks/nhn answers 503|gen-base64"
  "slack-webhook-url|the Slack incoming-webhook URL of the alerts channel|slack-sender; REQUIRED: the Slack sender does not start without it|text"
)

# Sets REPLY to $1 escaped for a JSON string (the values hold no control characters).
json_escape() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  REPLY=$s
}

# Sets REPLY to the stored value of parameter $1, or empty when there is none. Dies on any
# other error (no permission, no network): better to stop than to overwrite blindly.
stored_value() {
  local value
  if value=$(aws ssm get-parameter --name "$1" --with-decryption \
    --query Parameter.Value --output text 2>"$errs"); then
    REPLY=$value
  elif grep -q ParameterNotFound "$errs"; then
    REPLY=
  else
    die "could not read $1: $(cat "$errs")"
  fi
}

# Writes value $2 to parameter $1 (SecureString, overwriting) through the temporary file.
put() {
  json_escape "$2"
  printf '{"Name": "%s", "Value": "%s", "Type": "SecureString", "Overwrite": true, "Description": "Journey secret, written by infra/scripts/put-secrets.sh"}\n' \
    "$1" "$REPLY" >"$tmp"
  local version
  version=$(aws ssm put-parameter --cli-input-json "file://$tmp" \
    --query Version --output text 2>"$errs") || { : >"$tmp"; die "could not write $1: $(cat "$errs")"; }
  : >"$tmp"
  echo "   stored: version $version" >&2
}

# Random values; the commands' arguments hold no secret, their output stays in this process.
random_base64() {
  if command -v openssl >/dev/null; then openssl rand -base64 32
  else head -c 32 /dev/urandom | base64 | tr -d '\n'; fi
}
random_hex() {
  if command -v openssl >/dev/null; then openssl rand -hex 24
  else head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n'; fi
}

# Checks one new value of the given kind; returns 1 (after saying why) when it must not be
# stored, asks when it merely looks unusual.
acceptable() {
  local name=$1 kind=$2 value=$3
  if ! [[ $value =~ ^[[:graph:]]+$ ]] || [[ $value == *,* ]]; then
    echo "   refused: one value, without spaces or commas (those separate values during a rotation)" >&2
    return 1
  fi
  case $kind in
    standard | gen-standard)
      # ingest fails to start on a Standard Webhooks secret that is not base64
      local key=${value#whsec_} bytes
      if ! bytes=$(base64 -d <<<"$key" 2>/dev/null | wc -c) || [ "$bytes" -eq 0 ]; then
        echo "   refused: not whsec_ followed by base64 (ingest would fail to start)" >&2
        return 1
      fi
      if [ "$bytes" -lt 24 ]; then
        confirm "   the key is $bytes bytes; Standard Webhooks wants at least 24. Store it anyway?" || return 1
      fi
      ;;
  esac
  case $name in
    stripe-webhook) [[ $value == whsec_* ]] || confirm "   Stripe's signing secrets start with whsec_. Store it anyway?" || return 1 ;;
    toss-secret-key) [[ $value =~ ^(live|test)_g?sk_ ]] || confirm "   Toss secret keys start with live_sk_ or test_sk_. Store it anyway?" || return 1 ;;
    slack-webhook-url) [[ $value == https://hooks.slack.com/* ]] || confirm "   Slack incoming webhooks start with https://hooks.slack.com/. Store it anyway?" || return 1 ;;
    api-key)
      # the API refuses a key without its scope or shorter than 32 characters after it
      if ! [[ $value =~ ^(admin|read|ingest)_.{32,}$ ]]; then
        echo "   refused: an API key is admin_, read_ or ingest_ followed by at least 32 characters" >&2
        return 1
      fi
      ;;
  esac
  return 0
}

confirm() {
  local answer
  read -r -p "$1 [y/N] " answer
  [[ $answer =~ ^[Yy] ]]
}

outcomes=() # per secret, in the order of `secrets` (no associative arrays: bash 3.2 runs this too)
for i in "${!secrets[@]}"; do
  IFS='|' read -r name what readers kind <<<"${secrets[$i]}"
  param="$path/$name"
  echo >&2
  echo "== $name: $what" >&2
  echo "   read by $readers" >&2

  stored_value "$param"
  current=$REPLY
  current_values=()
  IFS=$' \t\n' read -r -d '' -a current_values <<<"${current//,/ }" || true
  count=${#current_values[@]}
  if [ "$count" -eq 0 ]; then
    echo "   stored: nothing yet" >&2
  elif [ "$count" -eq 1 ]; then
    echo "   stored: one value" >&2
  else
    echo "   stored: $count values (a rotation in progress; the first is the newest)" >&2
    if confirm "   Finish the rotation, keeping only the first value?"; then
      put "$param" "${current_values[0]}"
      outcomes[i]="rotation finished"
      continue
    fi
  fi

  value=
  if [[ $kind == gen-* ]]; then
    default=n
    [ "$count" -eq 0 ] && default=y
    read -r -p "   Generate a new random value? [$([ $default = y ] && echo Y/n || echo y/N)] " answer
    answer=${answer:-$default}
    if [[ $answer =~ ^[Yy] ]]; then
      case $kind in
        gen-standard) value="whsec_$(random_base64)" ;;
        gen-base64) value=$(random_base64) ;;
        gen-hex) value="admin_$(random_hex)" ;;
      esac
    fi
  fi
  while [ -z "$value" ]; do
    read -r -s -p "   New value (not echoed; empty: $([ "$count" -eq 0 ] && echo "leave it unset" || echo "keep the stored one")): " value
    echo >&2
    [ -n "$value" ] || break
    acceptable "$name" "$kind" "$value" || value=
  done
  if [ -z "$value" ]; then
    outcomes[i]=$([ "$count" -eq 0 ] && echo "not set" || echo "kept")
    continue
  fi

  if [ "$count" -gt 0 ]; then
    echo "   Keep the stored value(s) after the new one, so both are accepted while senders move" >&2
    echo "   over (a rotation)? Otherwise the new value replaces them at once." >&2
    if confirm "   Keep them?"; then
      value="$value ${current_values[*]}"
      outcomes[i]="new value in front of $count stored"
    else
      outcomes[i]="replaced"
    fi
  else
    outcomes[i]="set"
  fi
  put "$param" "$value"
  value=
done

echo >&2
echo "Summary ($path/):" >&2
missing_required=()
for i in "${!secrets[@]}"; do
  IFS='|' read -r name _ readers _ <<<"${secrets[$i]}"
  printf '  %-20s %s\n' "$name" "${outcomes[$i]}" >&2
  if [ "${outcomes[$i]}" = "not set" ] && [[ $readers == *REQUIRED* || $name == api-key ]]; then
    missing_required+=("$name")
  fi
done
if [ ${#missing_required[@]} -gt 0 ]; then
  echo "Still unset and needed before the first deploy: ${missing_required[*]}" >&2
fi
echo "Running functions pick up a change within SECRETS_REFRESH_SECONDS (300 s)." >&2
