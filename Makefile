# The two commands: `make dev` runs the whole system locally; `make test` runs every check.
# Both install what they need (a project venv with pinned Python tools); nothing global.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV  := .venv
PORT  ?= 3000
LAMBDA_PACKAGES := -p ates-auth -p ates-tasks -p ates-clock -p ates-accounting -p ates-notifications -p ates-analytics -p ates-hiring -p ates-orders -p ates-calculator -p ates-matching -p ates-supplies -p ates-bench -p ates-payments -p ates-reports -p ates-billing -p ates-bidding
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export ATES_MOTO_SERVER := $(CURDIR)/infra/moto-server

.PHONY: help dev test venv build check unit browser contract chromium lint schemas lambda sizes bench clean deploy

help:
	@echo "make dev    run aTES locally at http://127.0.0.1:$(PORT) (PORT=... to change)"
	@echo "make test   every check: fmt, clippy, unit, integration, end-to-end, browser and API contract tests, template lint and stack sizes, schemas, Lambda build"
	@echo "make lambda release bootstraps of every function (target/lambda/<binary>/bootstrap)"
	@echo "make bench  benchmarks (see BENCHMARKS.md)"
	@echo "make deploy ISSUER_URL=https://... MAIL_FROM=you@example.com [ALARM_EMAIL=...] [ARCH=arm64] [STACK=ates]  (README, Before you deploy)"

venv: $(VENV)/.installed
$(VENV)/.installed: infra/requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r infra/requirements.txt
	touch $@

# The same features as the tests, so `unit` reuses these binaries rather than linking a second
# set (each debug binary is ~55 MB; two sets once filled CI's disk).
build:
	cargo build --workspace --all-features --bins --examples

dev: venv build
	target/debug/ates-local --port $(PORT) --env-dir target/local-env

test: venv check unit browser contract lint schemas lambda sizes
	@echo "make test: every check passed"

check:
	cargo fmt --all --check
	cargo clippy --workspace --all-targets --all-features -- -D warnings

# Binaries first: the end-to-end tests run the real function binaries under the local stack.
unit: build
	cargo test --workspace --all-features --lib --test '*'

# The web app in headless Chromium, against a private local stack (tests/browser/journeys.py).
browser: venv build chromium
	timeout 600 python tests/browser/journeys.py

# The HTTP API against openapi.yaml: Schemathesis on a private local stack, a token per role
# (tests/contract/run_schemathesis.py; about 40 s, bounded by examples per operation and time).
contract: venv build
	timeout 300 python tests/contract/run_schemathesis.py

# Debian's chromium (Playwright's own browser download is not used).
chromium:
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt=apt-get; else apt="sudo apt-get"; fi; \
	  echo "installing chromium with $$apt"; \
	  DEBIAN_FRONTEND=noninteractive $$apt install -y -qq chromium \
	  || { $$apt update -qq && DEBIAN_FRONTEND=noninteractive $$apt install -y -qq chromium; }; }

# Every stack: the root and each context's nested stack, with cfn-lint's serverless rules (each
# suppression says why in its template). stack_sizes.py transforms each with
# SAM's translator and fails any past 350 resources (CloudFormation refuses 500).
TEMPLATES := template.yaml $(wildcard functions/*/template.yaml)
lint: venv
	cfn-lint --append-rules cfn_lint_serverless.rules -- $(TEMPLATES)
	python infra/stack_sizes.py template.yaml
	python -c "import tomllib; tomllib.load(open('samconfig.toml', 'rb'))"

schemas: venv
	@for schema in events/*/v*.schema.json; do \
	  example=$${schema%.schema.json}.example.json; \
	  check-jsonschema --quiet --schemafile "$$schema" "$$example"; \
	done
	check-jsonschema --quiet --schemafile events/envelope.schema.json events/envelope.example.json
	@echo "schemas: every example matches its schema"

lambda: venv
	cargo lambda build --release --x86-64 $(LAMBDA_PACKAGES)

sizes:
	@echo "release bootstrap sizes:"; for f in target/lambda/*/bootstrap; do \
	  printf '  %-28s %6d KiB\n' "$$(basename $$(dirname $$f))" $$(( $$(stat -c %s $$f) / 1024 )); done

# TASKS=10000 by default; RUNS=30 cold starts per function.
bench: venv build lambda
	infra/bench.sh

# Deploying (README, Before you deploy). SAM CLI lives in a venv of its own (.venv-deploy,
# pinned in infra/deploy-requirements.txt): only a deploy needs it, and make test's venv stays small.
# `sam build` runs cargo lambda (.venv/bin, on PATH above) once per function, in place, for the
# architecture it deploys, and puts only the bootstraps in .aws-sam/build, which is what
# `sam deploy` uploads: never deploy without that build (CodeUri is the workspace, target/ and
# all). Every other setting is in samconfig.toml; PARAMS adds parameter overrides (Key=Value ...).
ARCH        ?= x86_64
STACK       ?= ates
PARAMS      ?=
SAM         := $(CURDIR)/.venv-deploy/bin/sam

$(SAM): infra/deploy-requirements.txt
	python3 -m venv .venv-deploy
	.venv-deploy/bin/pip install --quiet --disable-pip-version-check -r infra/deploy-requirements.txt
	touch $@

deploy: venv $(SAM)
	@case "$(ARCH)" in x86_64|arm64) ;; *) echo "ARCH is x86_64 or arm64, not $(ARCH)"; exit 2;; esac
	@test -n "$(ISSUER_URL)" || { echo "make deploy needs ISSUER_URL=https://... (README, Before you deploy)"; exit 2; }
	@test -n "$(MAIL_FROM)" || { echo "make deploy needs MAIL_FROM=a verified SES sender (README, Before you deploy)"; exit 2; }
	rm -rf .aws-sam/build
	$(SAM) build --parameter-overrides Architecture=$(ARCH)
	$(SAM) deploy --stack-name $(STACK) --parameter-overrides \
	  Architecture=$(ARCH) IssuerUrl=$(ISSUER_URL) MailFrom=$(MAIL_FROM) $(if $(ALARM_EMAIL),AlarmEmail=$(ALARM_EMAIL)) $(PARAMS)

clean:
	rm -rf target .local
