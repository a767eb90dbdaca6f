# Journey's commands. `make test` is the one CI runs (.ci/run).
.PHONY: openapi dashboard screenshots test test-unit dev demo replay faults fuzz venv fmt lint sweep-scale build deploy package-check bench

ENV ?= default
SAM = SAM_CLI_TELEMETRY=0 .venv/bin/sam
SAMCONFIG = --config-file infra/samconfig.toml --config-env $(ENV)

## The whole system locally: emulator, resources, gateway on 127.0.0.1:3000, pollers, sweeps.
dev: venv
	cargo run --quiet -p journey-local -- run

## Replays events/demo/scenario.json through the gateway (starts the stack if it is not up).
demo: venv
	cargo run --quiet -p journey-local -- demo

## Posts an event log (EVENTS=log.jsonl) through the gateway with sweeps on its time; prints what it produced.
replay: venv
	cargo run --quiet -p journey-local -- replay --events $(EVENTS)

## Sent once, proven under faults (docs/reliability.md): FAULTS_CUSTOMERS customers over 60 days
## (160: about 10,400 events) replayed fault-free and again with 20 % of requests refused and 20 %
## of answers lost per service, 5 % of handler invocations crashed, webhooks delivered 1-3 times.
## Writes target/faults/report.json; fails on a lost state change, a duplicate, a miss, a dead letter.
FAULTS_CUSTOMERS ?= 160
## Hours between sweeps (24: a clock that moves a day at a time, past every quiet-hours window).
FAULTS_SWEEP_HOURS ?= 6
faults: venv
	cargo build --profile harness -p journey-local -p journey-tests --bin journey-local --bin population
	mkdir -p target/faults
	target/harness/population --customers $(FAULTS_CUSTOMERS) --days 60 --seed 5 --events target/faults/log.jsonl
	JOURNEY_STATE_DIR=target/faults/state JOURNEY_HTTP_PORT=3300 JOURNEY_EMULATOR_PORT=5305 \
	  target/harness/journey-local faults --events target/faults/log.jsonl --sweep-hours $(FAULTS_SWEEP_HOURS) --report target/faults/report.json

## Every parser of outside input fuzzed with FUZZ_CASES cases each (make test runs 2,000):
## provider and app bodies, signatures, unsubscribe links, API parameters, queue messages.
FUZZ_CASES ?= 100000
fuzz:
	FUZZ_CASES=$(FUZZ_CASES) cargo test --profile harness -p ingest -p api -p journey --test fuzz

## Every check and test, against a local AWS emulator started and stopped for the run.
test:
	infra/scripts/test.sh

## The fast tier, no emulator: every crate's unit tests (the domain's apply, score, model and
## backtest among them), the domain's property tests, the handlers against in-memory fakes, the
## parsers' fuzz tests at 2,000 cases, the journey-rules CLI, and the template against the code.
## The integration tests through the real SDK, calibration on populations, the fault suite and
## the browser test are `make test`'s.
test-unit:
	cargo test --workspace --lib --bins
	cargo test -p journey-domain -p journey -p journey-adapters -p ingest -p api -p calibrate -p email-sender -p text-sender --test '*'
	cargo test -p journey-tests --test template --test experiment

## docs/openapi.yaml from the request and response types (a test checks it is up to date).
openapi:
	UPDATE_OPENAPI=1 cargo test -q -p journey-tests --test template the_checked_in_openapi_document_is_the_generated_one

## The dashboard page (functions/api/assets/dashboard.html) built from functions/api/web (esbuild).
dashboard:
	infra/scripts/web.sh build

## The CS workspace's flows in headless Chromium, their screenshots written to docs/screenshots.
screenshots: venv
	SHOTS=$(CURDIR)/docs/screenshots cargo test -p journey-local --test dashboard the_cs_workspace_flows_work_in_chromium

## The project's Python tools (moto) in .venv.
venv:
	infra/scripts/venv.sh

fmt:
	cargo fmt --all

## The template (cfn-lint, sam validate --lint) and the code (clippy).
lint:
	infra/scripts/venv.sh deploy
	infra/scripts/lint-template.sh
	cargo clippy --workspace --all-targets -- -D warnings

## sam build: every function for arm64 with cargo-lambda (needs the aarch64 target: see docs/deploy.md).
build:
	infra/scripts/venv.sh deploy
	PATH="$(CURDIR)/.venv/bin:$$PATH" $(SAM) build $(SAMCONFIG)

## sam deploy to the environment ENV (a section of infra/samconfig.toml).
## sam deploy with the release recorded; a failed first creation is retried by deleting its
## empty stack; FORWARD_ONLY=yes to cross a forward-only release (docs/deploy.md 6 and 8).
deploy: build
	.venv/bin/python3 infra/scripts/deploy.py --sam .venv/bin/sam --config-file infra/samconfig.toml --config-env $(ENV) $(if $(filter yes,$(FORWARD_ONLY)),--cross-forward-only)

## Release binaries for Lambda (arm64), as `sam build` makes them, and their sizes.
package-check:
	infra/scripts/venv.sh deploy
	rustup target add aarch64-unknown-linux-gnu
	PATH="$(CURDIR)/.venv/bin:$$PATH" cargo lambda build --release --arm64 --workspace --exclude journey --exclude journey-tests --exclude journey-local
	@ls -l target/lambda/*/bootstrap

## Performance and cost (docs/performance.md): one build (profile `harness`), then the harness: criterion
## CPU figures, cold starts of the release binaries, the backtest of a million events, AWS
## requests per event through the local stack, sweep scaling, the monthly cost model. Prints
## Markdown tables; all figures in target/bench/.
BENCH_PACKAGES = -p ingest -p transition -p sweep -p email-sender -p slack-sender -p ses-feedback -p api -p journey-bench
bench: venv
	cargo build --profile harness --bins $(BENCH_PACKAGES)
	target/harness/journey-bench

## The sweep at scale in the emulator (SWEEP_SCALE_CUSTOMERS, default 100000; 1 % due).
sweep-scale: venv
	infra/scripts/with-emulator.sh cargo test --release -p journey-tests --test sweep_scale -- --ignored --nocapture
