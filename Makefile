PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8080
GATEWAY_TEST_MYSQL_URL ?= mysql+pymysql://root@127.0.0.1:3306/gateway_test?charset=utf8mb4

export HOST PORT GATEWAY_TEST_MYSQL_URL

.PHONY: install install-dev lock run test lint format bench stress stress-cutover stress-cluster stress-cluster-check cluster-packages fuzz clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

# The gateway is an application deployed from its checkout (docs/deploying.md): its own venv gets
# the locked dependencies, then the checkout itself (editable, no dependency resolution).
$(VENV)/.installed: $(BIN)/activate requirements.lock setup.cfg pyproject.toml
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

# Tests and lint: the application's set plus the dev extra, locked the same way.
$(VENV)/.dev-installed: $(VENV)/.installed requirements-dev.lock
	$(BIN)/pip install --quiet --require-hashes -r requirements-dev.lock
	touch $@

install: $(VENV)/.installed

install-dev: $(VENV)/.dev-installed

LOCK_FLAGS := --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links

lock: $(BIN)/activate  ## re-pin requirements*.lock from the ranges in setup.cfg (needs the index)
	$(BIN)/pip install --quiet pip-tools
	$(BIN)/pip-compile $(LOCK_FLAGS) --upgrade -o requirements.lock setup.cfg
	$(BIN)/pip-compile $(LOCK_FLAGS) --upgrade --extra dev -c requirements.lock -o requirements-dev.lock setup.cfg

run: install
	$(BIN)/flask --app wsgi init-db
	$(BIN)/flask --app wsgi add-indexes
	$(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

# Every test, spread over PYTEST_WORKERS xdist workers (each on its own MariaDB database,
# `<name>_gw0`, …); the tests that start heavy processes share one worker (xdist_group "heavy").
# 3 on 2 cores: the tests also wait (MariaDB fsyncs, gunicorn and browser subprocesses).
# PYTEST_WORKERS=0: one process, no xdist, as a plain `pytest` run.
PYTEST_WORKERS ?= 3

test: install-dev e2e-deps /usr/bin/jq /usr/sbin/nginx  # every test: the browser e2e and the README's own lines too
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadgroup

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install  # issue #6: fresh gateway_bench, gunicorn as in production, wrk, PyMySQL limit
	$(BIN)/py-spy --version >/dev/null 2>&1 || $(BIN)/pip install --quiet py-spy==0.4.3
	timeout --signal=TERM --kill-after=30 600 $(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) instance .pytest_cache

.PHONY: e2e-deps
E2E := examples/flow-toggle

# browser e2e (tests/e2e): Debian's chromium, the example's npm packages, its Vite build; each step
# runs only when its output is missing or older than its inputs, so `make test` stays quick.
e2e-deps: /usr/bin/chromium $(E2E)/node_modules/.package-lock.json $(E2E)/dist/index.html

/usr/bin/jq:  # the README's quickstart reads JSON answers with jq (tests/test_readme.py)
	apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y jq

/usr/sbin/nginx:  # the unit's shape, sync workers behind deploy/nginx.conf (tests/test_slow_clients.py)
	apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y nginx

/usr/bin/chromium:
	apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium

$(E2E)/node_modules/.package-lock.json: $(E2E)/package-lock.json
	cd $(E2E) && npm ci --no-audit --no-fund

$(E2E)/dist/index.html: $(E2E)/node_modules/.package-lock.json $(E2E)/index.html $(E2E)/vite.config.js $(wildcard $(E2E)/src/*)
	cd $(E2E) && npm run build

# Issue #7: bounded stress and fuzz runs (stress/). Each prints its figures and records them in
# docs/reliability.md. The shared MariaDB on 127.0.0.1:3306 is started if it is not answering
# (never restarted); the outage run starts a private server of its own.
STRESS_SOAK_SECONDS ?= 600
export STRESS_SOAK_SECONDS

stress: install  ## concurrency (~20 s), database outage (~2 min), soak (STRESS_SOAK_SECONDS)
	@command -v wrk >/dev/null || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y wrk; }
	@command -v mariadb-install-db >/dev/null || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y mariadb-server; }
	timeout --signal=INT $$(( STRESS_SOAK_SECONDS + 600 )) $(BIN)/python -m stress.run

stress-cutover: install  ## issue #17: shadow compare end to end (~4 min); figures in docs/cutover.md
	@command -v wrk >/dev/null || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y wrk; }
	timeout --signal=INT 900 $(BIN)/python -m stress.cutover

# Issue #18: three MariaDB Galera nodes behind HAProxy, gateways on three hosts (network
# namespaces), all on 127.0.0.1 and private ports (13300-13318, 14567-14589, 18601-18603); the
# shared MariaDB is never touched. Installs Debian's haproxy, wrk and mariadb-server (which brings
# galera-4 and rsync) when missing. Not part of `make test`.
CLUSTER_PACKAGES = haproxy:haproxy wrk:wrk mariadb-install-db:mariadb-server rsync:rsync

cluster-packages:
	@missing=""; for pair in $(CLUSTER_PACKAGES); do \
	  command -v $${pair%%:*} >/dev/null || missing="$$missing $${pair#*:}"; done; \
	test -e /usr/lib/galera/libgalera_smm.so || missing="$$missing galera-4"; \
	if [ -n "$$missing" ]; then apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $$missing; fi

stress-cluster: install cluster-packages  ## the whole run (~4 min): storm, lease, logout-all, node failure, throughput
	timeout --signal=INT --kill-after=60 900 $(BIN)/python -m stress.cluster.run

stress-cluster-check: install cluster-packages  ## the short CI check (~75 s): init-db, storm, lease, logout-all
	STRESS_CLUSTER_QUICK=1 timeout --signal=INT --kill-after=60 300 $(BIN)/python -m stress.cluster.run

fuzz: install  ## schemathesis against the live OpenAPI document (~2 min)
	$(BIN)/pip install --quiet -r stress/requirements.txt
	timeout --signal=INT 1200 $(BIN)/python -m stress.fuzz
