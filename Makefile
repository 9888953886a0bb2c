# ai-platform: `make run` starts everything locally, `make test` runs every test suite.
.PHONY: run test bootstrap venvs crds help

help:
	@echo "make run    start every service locally (bootstraps what is missing); Ctrl-C stops all"
	@echo "make test   run every suite in its own venv; ends with 'N passed, N failed'"

bootstrap:
	@bash scripts/bootstrap.sh

run: bootstrap
	@bash scripts/start_all.sh

test: bootstrap
	@python3 scripts/run_tests.py

venvs:
	@for d in services/*/ operators/*/ tests/ tests/cluster/; do [ -f $$d/requirements.txt ] && bash scripts/venv.sh $$d; done

crds:
	@cd operators/platform-operator && $$(bash ../../scripts/venv.sh .)/bin/python -m platform_operator crds --out crds/
