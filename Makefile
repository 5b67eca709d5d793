# 민원 챗봇. `make help` lists the targets; README, CI and people use these.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa
MODEL := models/minwon.tar.gz
HOLDOUT := tests/data/nlu_holdout.jsonl
ENTITY_HOLDOUT := tests/data/entity_holdout.yml
DEV := tests/data/nlu_dev_real.jsonl
# Everything a trained model depends on (the custom components of config.yml included): a change retrains.
# (data/knowledge and data/crisis are read at run time, not trained into the model.)
MODEL_INPUTS := config.yml domain.yml $(shell find data -path data/knowledge -prune -o \( -name "*.yml" -o -name "*.txt" \) -print 2>/dev/null) \
	bot/nlu/korean_tokenizer.py bot/nlu/intent_classifier.py bot/nlu/response_selector.py bot/nlu/linear.py bot/nlu/entities.py
export TF_CPP_MIN_LOG_LEVEL ?= 2
export SQLALCHEMY_SILENCE_UBER_WARNING ?= 1
# No usage telemetry from a city's servers (and these machines have no internet anyway).
export RASA_TELEMETRY_ENABLED ?= false

.PHONY: help install train retrain run run-scaled haproxy chat migrate services browser test test-unit validate test-conversations evaluate bench bench-gateway bench-scaling bench-insights bench-broadcast bench-duplicates bench-nlu bench-knowledge bench-crisis fuzz lint lock clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-20s %s\n", $$1, $$2}'

install: $(VENV)/.installed node_modules/.installed ## Create .venv (Python 3.10) and install the pinned dependencies (and the console's charts from npm)
$(VENV)/.installed: requirements.txt constraints.txt pyproject.toml scripts/install.sh
	scripts/install.sh
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

train: $(MODEL) ## Train the model if the data, domain, config or tokenizer changed
$(MODEL): $(MODEL_INPUTS) | $(VENV)/.installed
	$(RASA) train --fixed-model-name minwon --out models
	@touch $(MODEL)

run: install train migrate ## Set up, train if needed, migrate, and start the action server, Rasa and the gateway
	scripts/run.sh

run-scaled: install train services haproxy ## Like make run, with two gateways sharing Redis behind HAProxy on :8000 (PostgreSQL if DATABASE_URL says so)
	REDIS_URL=$${REDIS_URL:-redis://127.0.0.1:6379/0} DATABASE_URL=$${DATABASE_URL:-sqlite:///$$PWD/minwon.db} $(PY) -m bot.store.migrate
	GATEWAYS=$${GATEWAYS:-2} REDIS_URL=$${REDIS_URL:-redis://127.0.0.1:6379/0} scripts/run.sh

haproxy: ## Install Debian's HAProxy (the scaled setup's load balancer), if missing (needs root)
	scripts/haproxy.sh

migrate: install ## Bring the database (DATABASE_URL, default the SQLite file minwon.db) up to date
	$(PY) -m bot.store.migrate

browser: ## Install Debian's Chromium and Korean fonts for the browser tests, if missing (needs root)
	scripts/browser.sh

services: ## Start the Redis and PostgreSQL servers the tests use, if they are installed and stopped
	scripts/services.sh

chat: ## Talk to the running bot in the terminal (after make run, in another terminal)
	$(PY) scripts/chat.py

test: install train services browser haproxy lint test-unit validate test-conversations ## Install, train if needed, lint, run every test and the quality gates

test-unit: ## pytest: tokenizer, store (SQLite and PostgreSQL), actions, evaluation, the quality gate
	$(PY) -m pytest -q

validate: ## rasa data validate, failing on any warning about the data
	$(PY) -m bot.validate

test-conversations: ## rasa test: the conversation tests in tests/test_conversations.yml
	ACTIONS_TOKEN=unused-rasa-test-calls-no-action $(RASA) test core --model $(MODEL) --stories tests/test_conversations.yml \
		--fail-on-prediction-errors --out results

evaluate: install train ## Intent and category accuracy, and entities, on the held-out sets
	$(PY) -m bot.evaluate --data $(HOLDOUT) --entities $(ENTITY_HOLDOUT) --model $(MODEL)
	$(PY) -m bot.evaluate --data $(DEV) --model $(MODEL)

bench-nlu: install ## Compare the pipeline with alternatives on the held-out and development sets (ARGS=--all: older ones too); writes docs/benchmarks/nlu.md
	$(PY) -m bench.nlu --data $(HOLDOUT) --dev $(DEV) --entities $(ENTITY_HOLDOUT) --out docs/benchmarks/nlu.md $(ARGS)
	$(MAKE) bench-knowledge
	$(PY) -m bench.places --entities $(ENTITY_HOLDOUT) --out docs/benchmarks/places.md

bench-knowledge: install train ## Knowledge-base retrieval on questions written apart; writes docs/benchmarks/knowledge.md
	$(PY) -m bench.knowledge --questions tests/data/knowledge_questions_*.jsonl --model $(MODEL) \
		--out docs/benchmarks/knowledge.md

bench-gateway: install train ## Simulated citizens through the gateway and straight to Rasa; writes docs/benchmarks/gateway.md
	$(PY) -m bench.gateway --out docs/benchmarks/gateway.md

bench-crisis: install ## Crisis detection: recall and false alarms, alone and in context (form answers); writes docs/benchmarks/crisis.md
	$(PY) -m bench.crisis tests/data/crisis.jsonl tests/data/crisis_holdout.jsonl tests/data/crisis_context.jsonl \
		$(HOLDOUT) $(DEV) --markdown docs/benchmarks/crisis.md

retrain: install migrate ## Train on what agents labelled; the candidate serves only if it is not worse (ARGS=--rollback…)
	set -a; [ -f .env ] && . ./.env; set +a; $(PY) -m bot.retrain $(ARGS)

fuzz: install migrate ## Generated bad input at every gateway endpoint (10,000 each): 5xx, drops, hangs, memory; writes docs/benchmarks/fuzz.md
	$(PY) -m bench.fuzz --count $${FUZZ_COUNT:-10000} --markdown docs/benchmarks/fuzz.md

bench-faults: install train services haproxy ## 50 citizens through HAProxy while a Rasa server and a gateway are killed and PostgreSQL and Redis restart; writes docs/benchmarks/faults.md (restarts this machine's PostgreSQL: run it alone)
	$(PY) -m bench.faults --citizens $${CITIZENS:-50} --markdown docs/benchmarks/faults.md

bench-scaling: install train services haproxy ## The scaled setup (PostgreSQL, Redis, HAProxy, 2 gateways) with 1, 2 and 4 Rasa servers against Rasa's starter bot; writes docs/benchmarks/scaling.md
	$(PY) -m bench.scaling --out docs/benchmarks/scaling.md

bench-insights: install services ## The dashboard and the tickets page at 100,000 tickets on SQLite and PostgreSQL; writes docs/benchmarks/insights.md
	$(PY) -m bench.insights --out docs/benchmarks/insights.md

bench-broadcast: install ## A card set to 10,000 Telegram subscribers within Telegram's limits, the gateway restarted half-way; writes docs/benchmarks/broadcast.md
	$(PY) -m bench.broadcast --subscribers $${SUBSCRIBERS:-10000} --out docs/benchmarks/broadcast.md

bench-duplicates: install ## The duplicate detector's precision and recall on pairs written for it; writes docs/benchmarks/duplicates.md
	$(PY) -m bench.duplicates --out docs/benchmarks/duplicates.md

bench: bench-gateway bench-nlu bench-crisis ## Every benchmark

lint: install ## ruff (lint and format) and mypy
	$(VENV)/bin/ruff check bot actions bench tests scripts
	$(VENV)/bin/ruff format --check bot actions bench tests scripts
	$(VENV)/bin/mypy

lock: ## Re-pin constraints.txt from a fresh install of requirements.txt
	rm -rf .venv-lock && $(PY) -m venv .venv-lock
	.venv-lock/bin/pip install --quiet -r requirements.txt
	.venv-lock/bin/pip freeze --exclude-editable > constraints.txt && rm -rf .venv-lock

clean: ## Remove trained models and test results (keeps .venv)
	rm -rf models results
