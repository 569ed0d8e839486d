# femcait: set up, run the default study, test.
#
#   make run        install (first time only) and run the default study into results/
#   make test       install (first time only) and run the format/lint checks and the tests
#   make venv       only install: .venv with Python >= 3.12 and femcait[test] (editable)
#   make paraview   install ParaView's pvbatch from Debian if it is missing (apt-get)
#   make clean      remove .venv and caches (results/ is left alone)
#
# Python for the venv: PYTHON=/path/to/python3.12 if given, else python3.12 on PATH,
# else the newest pyenv 3.12 ($PYENV_ROOT or ~/.pyenv), else python3 if it is >= 3.12.

SHELL := /bin/bash

VENV := .venv
STAMP := $(VENV)/.femcait-installed
PYENV_ROOT ?= $(HOME)/.pyenv
PYTHON ?=

STUDY ?= studies/li3b7o12_k_cait.yaml
OUT ?= results/$(basename $(notdir $(STUDY)))

# exit status 0 for a Python >= 3.12
IS_PY312 := -c 'import sys; sys.exit(sys.version_info < (3, 12))'

.PHONY: venv run test paraview clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	@set -e; \
	if [ -x $(VENV)/bin/python ] && $(VENV)/bin/python $(IS_PY312) 2>/dev/null; then \
		echo "==> reusing $(VENV) ($$($(VENV)/bin/python --version))"; \
	else \
		if [ -n "$(PYTHON)" ]; then \
			candidates="$(PYTHON)"; \
		else \
			candidates="$$(command -v python3.12 || true) \
				$$(ls -d $(PYENV_ROOT)/versions/3.12*/bin/python 2>/dev/null | sort -rV) \
				$$(command -v python3 || true)"; \
		fi; \
		python=""; \
		for candidate in $$candidates; do \
			if "$$candidate" $(IS_PY312) >/dev/null 2>&1; then \
				python="$$("$$candidate" -c 'import sys; print(sys.executable)')"; \
				break; \
			fi; \
		done; \
		if [ -z "$$python" ]; then \
			echo "error: femcait needs Python >= 3.12, and none was found." >&2; \
			echo "  tried: $${candidates:-nothing} (python3.12 on PATH, $(PYENV_ROOT)/versions/3.12*, python3)" >&2; \
			echo "  install one (e.g. 'pyenv install 3.12') or pass PYTHON=/path/to/python3.12" >&2; \
			exit 1; \
		fi; \
		echo "==> creating $(VENV) with $$python ($$("$$python" --version))"; \
		rm -rf $(VENV); \
		"$$python" -m venv $(VENV); \
	fi; \
	echo "==> installing femcait and its test tools into $(VENV) (first time: a few minutes)"; \
	$(VENV)/bin/python -m pip install --quiet --upgrade pip; \
	$(VENV)/bin/python -m pip install -e '.[test]'; \
	touch $(STAMP); \
	echo "==> $(VENV) ready"

run: venv
	$(VENV)/bin/femcait run $(STUDY) --out $(OUT)

# tests that run in-process also run on two MPI ranks (the others start femcait themselves)
MPI_TESTS := tests/verification/test_mms.py tests/verification/test_jacobian.py \
	tests/unit/test_control_volumes.py tests/unit/test_sed_ufl.py

test: venv
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mpiexec -n 2 $(VENV)/bin/python -m pytest -q -p no:cacheprovider $(MPI_TESTS)
	$(VENV)/bin/python -m pytest -q

paraview:
	@set -e; \
	if command -v pvbatch >/dev/null 2>&1; then \
		echo "==> ParaView present: $$(command -v pvbatch)"; \
	else \
		sudo=""; \
		if [ "$$(id -u)" -ne 0 ]; then sudo="sudo"; fi; \
		echo "==> installing ParaView (Debian packages paraview, python3-paraview)"; \
		$$sudo apt-get update; \
		$$sudo env DEBIAN_FRONTEND=noninteractive \
			apt-get install -y --no-install-recommends paraview python3-paraview; \
		command -v pvbatch >/dev/null || { echo "error: pvbatch still missing" >&2; exit 1; }; \
		echo "==> ParaView installed: $$(command -v pvbatch)"; \
	fi

clean:
	rm -rf $(VENV) *.egg-info build .pytest_cache .ruff_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
