# ckanext-governance: two commands on a fresh machine.
#   make test   install what is missing, then run the whole test suite
#   make demo   install what is missing, then serve a demo site on http://127.0.0.1:5000
SHELL := /bin/bash
VENV ?= $(CURDIR)/.venv
export VENV

# Extra arguments for pytest, e.g. make test PYTEST_ARGS="-k search -x"
PYTEST_ARGS ?=

.PHONY: test test-future test-ckan test-ckan-quick demo bench bench-scale bench-export bench-embargo bench-agreements bench-requests bench-publication bench-resource-search bench-load stack i18n setup-test setup-demo setup-stack setup-bench setup-load clean

# CKAN_SUITE: which of CKAN's own tests run beside ours, at the same time on
# databases of their own (quick: the fixed subset CI runs, all: every module
# issue 14 names, none: ours only). See dev/test.sh.
CKAN_SUITE ?= quick

test: setup-test
	CKAN_SUITE="$(CKAN_SUITE)" PYTEST_ARGS="$(PYTEST_ARGS)" dev/test.sh

# The same suite with the clock a year ahead: time-machine moves the test
# process's clock for the whole session (PostgreSQL, Redis and Chromium keep
# the real one, so a decision that read the database's clock would show).
# FUTURE=730 moves it further.
FUTURE ?= 365
test-future: setup-test
	GOVERNANCE_TEST_CLOCK_DAYS="$(FUTURE)" $(VENV)/bin/python -m pytest $(PYTEST_ARGS)

# CKAN 2.12.0's own tests (from its sdist) without and with governance appended
# to every test's plugins; fails on a regression not listed with its reason in
# dev/ckan_core/known_differences.txt. test-ckan-quick: the subset for CI.
test-ckan: setup-test
	dev/ckan_suite.sh all

test-ckan-quick: setup-test
	dev/ckan_suite.sh quick

demo: setup-demo
	dev/demo.sh

# The demo's site in production's shape: gunicorn with 4 workers, two job
# workers, cron on a loop, its own Solr and databases (dev/stack.sh; the README's
# "Reference deployment").
stack: setup-stack
	dev/stack.sh

# Not part of `make test`: overhead against the same CKAN without the plugin
# (writes benchmarks/RESULTS.md and benchmarks/ratio.png), e.g. BENCH_ARGS="--rounds 300".
bench: setup-bench
	$(VENV)/bin/python benchmarks/overhead.py $(BENCH_ARGS)

# 100,000 datasets, 1,000,000 acceptances, 100,000 requests, 1,000,000 events
# against a small seed: query counts, timings, the lift's plan, export memory.
bench-scale: setup-bench
	$(VENV)/bin/python benchmarks/scale.py $(BENCH_ARGS)

# Peak memory of the ledger's CSV export at 100k and 1M events.
bench-export: setup-bench
	$(VENV)/bin/python benchmarks/export_memory.py

# The embargo lift with 100,000 embargoed datasets, 1,000 of them due.
bench-embargo: setup-bench
	$(VENV)/bin/python benchmarks/embargo_lift.py

# The agreement check at 10k and 1M acceptances: query counts, timings, plan.
bench-agreements: setup-bench
	$(VENV)/bin/python benchmarks/agreement_scale.py

# The review queue and the decision for 100 datasets at 1k and 100k access requests.
bench-requests: setup-bench
	$(VENV)/bin/python benchmarks/request_scale.py

# The publication check of a dataset with 10, 100 and 1,000 links: query counts, timings.
bench-publication: setup-bench
	$(VENV)/bin/python benchmarks/publication_links.py

# resource_search with url: terms and order_by=url at 3,000 matches, against
# CKAN's own function (on the test database; it removes what it loads).
bench-resource-search: setup-test
	$(VENV)/bin/python benchmarks/resource_search.py --ini test.ini

# The reference deployment under load, with and without the plugin, then with
# faults injected one at a time; asserts nothing lost, duplicated or leaked
# (benchmarks/load/; writes its section of benchmarks/RESULTS.md and
# benchmarks/load.png). One scenario: make bench-load SCENARIO=redis.
SCENARIO ?=
bench-load: setup-load
	$(VENV)/bin/python -m benchmarks.load.run $(if $(SCENARIO),--scenario $(SCENARIO)) $(BENCH_ARGS)

# The message catalogue and its German and Spanish translations (dev/i18n.sh): extract,
# merge, compile. Run after changing a user-facing string; tests/test_i18n.py fails until then.
i18n: setup-test
	dev/i18n.sh

setup-test:
	dev/setup.sh test

setup-demo:
	dev/setup.sh demo

setup-stack:
	dev/setup.sh stack

setup-bench:
	dev/setup.sh bench

setup-load:
	dev/setup.sh load

# Removes the virtualenv, local data (demo search index, uploads) and the Solr
# jars (fetched again from ~/.m2 by the next setup); the
# PostgreSQL databases stay.
clean:
	rm -rf $(VENV) .data .solr tests/artifacts
