# Journey's commands. `make test` is the one CI runs (.ci/run).
.PHONY: test venv fmt lint

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
