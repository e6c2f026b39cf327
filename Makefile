# make install: what the demo needs (devstack/install.sh; quick when present); install-test adds
#               PostgreSQL and Redis, which only the tests use.
# make demo:    the dev stack and the portal at http://127.0.0.1:5000 until Ctrl-C, on OpenLDAP;
#               make demo DIRECTORY=ad on a Samba Active Directory domain controller instead.
# make test:    mypy --strict, then the whole test suite against real servers;
#               PYTEST_ARGS="tests/services/reset -k limits" narrows the suite.
# make types:   mypy --strict over portal/ (settings and the stubs it needs: devstack/mypy.ini).
PYTEST_ARGS ?=
DIRECTORY ?= openldap

.PHONY: install install-test demo test types messages bench

install:
	bash devstack/install.sh demo

install-test:
	bash devstack/install.sh test

demo: install
	.venv/bin/python -m devstack demo --directory $(DIRECTORY)

test: install-test types
	.venv/bin/pytest -p no:cacheprovider $(PYTEST_ARGS)

types: install
	.venv/bin/mypy --config-file devstack/mypy.ini portal wsgi.py

# make messages: collect every user-facing text into portal/translations/messages.pot, then bring
#               each catalogue (portal/translations/<lang>/LC_MESSAGES/messages.po) up to date with
#               it: new texts come in empty, changed ones marked fuzzy (with the previous English),
#               removed ones dropped. Translate those, then tests/i18n checks nothing is missing.
#               Add a language: `make messages NEW_LANGUAGE=it` (then list it in [i18n] languages).
NEW_LANGUAGE ?=
messages: install
	.venv/bin/pybabel extract -F portal/translations/babel.cfg -k _l -k N_ --add-location=file \
		--sort-by-file --project="Password portal" --copyright-holder="" -o portal/translations/messages.pot .
	$(if $(NEW_LANGUAGE),.venv/bin/pybabel init -i portal/translations/messages.pot -d portal/translations -l $(NEW_LANGUAGE))
	.venv/bin/pybabel update -i portal/translations/messages.pot -d portal/translations --ignore-obsolete --previous

# make bench:   issue 12's speed and memory figures (devstack/bench; README "Benchmark"): its own
#               slapd, PostgreSQL database, Redis database number, mail sink and provider; about
#               15 minutes at the default 100,000 people, BENCH_PEOPLE=2000 for a quick look.
bench: install-test
	.venv/bin/python -m devstack.bench
