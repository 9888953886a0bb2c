# ai-platform: `make run` starts everything locally, `make test` runs every test suite.
.PHONY: run test bootstrap venvs crds api-types help cluster-up deploy new-service doctor

help:
	@echo "make run    start every service locally (bootstraps what is missing); Ctrl-C stops all"
	@echo "make test   run every suite in its own venv; ends with 'N passed, N failed'"
	@echo "make new-service NAME=<name> PORT=<port> TASK=<kind>   a working service skeleton (scripts/new_service.py)"
	@echo "make api-types  regenerate the gateway's OpenAPI document and the web UI's API types from it"
	@echo "make doctor GPU readiness: per service, ready on GPU / will run on CPU / broken (why, fix)"
	@echo "make cluster-up   kind cluster with ingress-nginx, cert-manager and KServe (needs docker, kind, kubectl, helm)"
	@echo "make deploy       build every image and install charts/ai-platform with skaffold"
	@echo "                  (PROFILE=kind|k3s|cloud; cloud also REGISTRY=<registry>)"

bootstrap:
	@bash scripts/bootstrap.sh

run: bootstrap
	@bash scripts/start_all.sh

test: bootstrap
	@python3 scripts/run_tests.py

doctor:
	@python3 scripts/doctor.py

venvs:
	@for d in services/*/ operators/*/ tests/ tests/cluster/; do [ -f $$d/requirements.txt ] && bash scripts/venv.sh $$d; done

# A new model service in one command (docs/CONVENTIONS.md "A new service"):
#   make new-service NAME=document-qa PORT=8002 TASK=document-qa [RESOURCE=documents] [PREFIX=DOCQA]
new-service:
	@python3 scripts/new_service.py --name "$(NAME)" --port "$(PORT)" --task "$(or $(TASK),custom)" \
	  $(if $(RESOURCE),--resource "$(RESOURCE)") $(if $(PREFIX),--env-prefix "$(PREFIX)") $(if $(TITLE),--title "$(TITLE)")

# The gateway's OpenAPI document (tests/contracts/gateway-openapi.json) and the web UI's types
# generated from it (services/web-frontend/src/lib/api.gen.ts); tests fail when either is stale.
api-types:
	@[ -d services/web-frontend/node_modules/openapi-typescript ] || (cd services/web-frontend && npm ci --no-audit --no-fund --loglevel=error)
	@bash services/web-frontend/gen-api.sh

crds:
	@cd operators/platform-operator && $$(bash ../../scripts/venv.sh .)/bin/python -m platform_operator crds --out crds/
	@cp operators/platform-operator/crds/*.yaml charts/platform-operator/crds/

# Kubernetes (README "Kubernetes"): kind on a laptop, k3s with the GPU, or a cloud cluster.
PROFILE ?=
REGISTRY ?=

cluster-up:
	@bash k8s/kind/create.sh

deploy:
	@skaffold run $(if $(PROFILE),-p $(PROFILE)) $(if $(REGISTRY),--default-repo=$(REGISTRY))
