# Journey's commands. `make test` is the one CI runs (.ci/run).
.PHONY: test dev demo venv fmt lint sweep-scale

## The whole system locally: emulator, resources, gateway on 127.0.0.1:3000, pollers, sweeps.
dev: venv
	cargo run --quiet -p journey-local -- run

## Replays events/demo/scenario.json through the gateway (starts the stack if it is not up).
demo: venv
	cargo run --quiet -p journey-local -- demo

## Every check and test, against a local AWS emulator started and stopped for the run.
test:
	infra/scripts/test.sh

## The project's Python tools (moto) in .venv.
venv:
	infra/scripts/venv.sh

fmt:
	cargo fmt --all

lint:
	cargo clippy --workspace --all-targets -- -D warnings

## The sweep at scale in the emulator (SWEEP_SCALE_CUSTOMERS, default 100000; 1 % due).
sweep-scale: venv
	infra/scripts/with-emulator.sh cargo test --release -p journey-tests --test sweep_scale -- --ignored --nocapture
