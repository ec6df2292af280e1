# Coopmarket: `make demo` serves the app with demo data; `make test` runs every test.
# Python 3.12+ is required: the first interpreter that really runs and is >= 3.12 is used.
SHELL := /bin/bash
VENV := .venv
PY_CANDIDATES := python3.13 python3.12 python3 $(wildcard $(shell pyenv root 2>/dev/null)/versions/3.1[2-9]*/bin/python3)
PYTHON ?= $(shell for p in $(PY_CANDIDATES); do \
	if $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then echo $$p; break; fi; done)
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO_ENV := DJANGO_DEBUG=1
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo test venv sysdeps serve messages lint bench clean

$(STAMP): requirements.txt requirements-dev.txt
	@if [ -z "$(PYTHON)" ]; then echo "Python 3.12 or newer is required (none found)." >&2; exit 1; fi
	@[ -x $(VPY) ] || $(PYTHON) -m venv $(VENV)
	$(VPY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(VPY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $(STAMP)

venv: $(STAMP)

sysdeps:
	@bash scripts/system-deps.sh $(SYSDEPS_FLAGS)

demo: sysdeps venv
	$(DEMO_ENV) $(VPY) manage.py migrate --noinput
	$(DEMO_ENV) $(VPY) manage.py seed_demo
	@echo "Serving on http://$(HOST):$(PORT)/ (Ctrl+C to stop)"
	$(DEMO_ENV) $(VPY) manage.py runserver $(HOST):$(PORT)

serve: venv
	$(DEMO_ENV) $(VPY) manage.py runserver $(HOST):$(PORT)

test: sysdeps venv
	$(VPY) -m pytest $(PYTEST_ARGS)

lint: venv
	$(VPY) -m ruff check .

messages: venv
	$(VPY) manage.py makemessages -l fr --ignore ".venv/*" --ignore "bench/*" --ignore "*/tests/*" --ignore "docs/*"
	$(VPY) manage.py compilemessages --ignore ".venv/*"

bench: venv
	$(VPY) bench/members_table.py

clean:
	rm -rf $(VENV) .pytest_cache db.sqlite3 staticfiles
