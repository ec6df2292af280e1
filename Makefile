# Coopmarket: `make demo` serves the app with demo data; `make test` runs every test.
# Python 3.12+ is required: scripts/find-python.sh picks the first that really runs (python3.14..12,
# uv's, python3, pyenv's versions) or says what to install; `make ... PYTHON=/path/to/python3` is
# checked, then used. A broken or half-created .venv is rebuilt (scripts/venv.sh).
SHELL := /bin/bash
VENV := .venv
VPY := $(VENV)/bin/python
DEMO_ENV := DJANGO_DEBUG=1
HOST ?= 127.0.0.1
PORT ?= 8000
AXE := .ci/node_modules/axe-core/axe.min.js
export PYTHON

.PHONY: demo test venv python sysdeps test-sysdeps axe serve messages lint bench clean

python:
	@bash scripts/find-python.sh

venv:
	@bash scripts/venv.sh $(VENV)

sysdeps:
	@bash scripts/system-deps.sh

test-sysdeps:
	@bash scripts/system-deps.sh --test

# axe-core for the browser tests' accessibility checks: the version pinned in .ci/package-lock.json.
axe: $(AXE)

$(AXE): .ci/package.json .ci/package-lock.json
	@if command -v npm >/dev/null; then \
		npm ci --prefix .ci --no-audit --no-fund --loglevel=error && touch $(AXE); \
	else \
		echo "npm is missing: axe-core is not installed, so the browser tests skip (and fail under CI=true)." >&2; \
		echo "Install Node.js and npm (Debian: apt-get install nodejs npm), then run make axe." >&2; \
	fi

demo: sysdeps venv
	$(DEMO_ENV) $(VPY) manage.py migrate --noinput
	$(DEMO_ENV) $(VPY) manage.py seed_demo
	@echo "Serving on http://$(HOST):$(PORT)/ (Ctrl+C to stop)"
	$(DEMO_ENV) $(VPY) manage.py runserver $(HOST):$(PORT)

serve: venv
	$(DEMO_ENV) $(VPY) manage.py runserver $(HOST):$(PORT)

# pytest's exit code 5 means it collected no test: a failure, never a pass.
test: test-sysdeps venv axe
	@status=0; $(VPY) -m pytest $(PYTEST_ARGS) || status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no test (exit code 5): that is a failure." >&2; fi; \
	exit $$status

lint: venv
	$(VPY) -m ruff check .

messages: venv
	$(VPY) manage.py makemessages -l fr --ignore ".venv/*" --ignore "bench/*" --ignore "*/tests/*" --ignore "docs/*"
	$(VPY) manage.py compilemessages --ignore ".venv/*"

bench: venv
	PY=$(VPY) bash bench/run-all.sh

clean:
	rm -rf $(VENV) .pytest_cache db.sqlite3 staticfiles .ci/node_modules
