# textclf's developer entry points. `make demo` and `make test` do all set-up on a fresh machine.
PYTHON ?= python3
PIP_INSTALL = $(PYTHON) -m pip install --quiet --disable-pip-version-check

.PHONY: setup setup-python setup-controlplane crds manifests lint test test-fast demo dev-cluster dev-cluster-down

setup: setup-python setup-controlplane

setup-python:
	$(PIP_INSTALL) -e '.[dev]'

# etcd, kube-apiserver and kube-controller-manager built from their Go modules, cached outside the repo.
setup-controlplane:
	bash hack/controlplane/build.sh >/dev/null
	$(PYTHON) hack/controlplane/controlplane.py build >/dev/null

# Regenerate crds/ from the typed models in textclf/api, the chart's copy, and deploy/.
crds:
	$(PYTHON) -m textclf.api.crdgen crds/
	cp crds/*.yaml charts/textclf-operator/files/crds/
	$(MAKE) manifests

# Re-render the plain manifests in deploy/ from the chart.
manifests:
	$(PYTHON) -m tests.install.charts deploy

lint:
	$(PYTHON) -m ruff check .
	$(PYTHON) -m ruff format --check .
	$(PYTHON) -m mypy
	lint-imports

# The whole suite: lint, type checks, unit tests, the real control plane, real training.
test: setup
	$(MAKE) lint
	$(PYTHON) -m pytest

# Without set-up, for a quick loop once `make setup` has run.
test-fast: lint
	$(PYTHON) -m pytest -x -q

# The embedded default: train, evaluate and predict locally on the bundled IMDB example.
demo: setup-python
	HF_HUB_OFFLINE=1 textclf train --local -f examples/local/imdb-embedding-logreg.yaml
	HF_HUB_OFFLINE=1 textclf evaluate --local imdb-embedding-logreg \
	  --dataset examples/data/clarifai_imdb/test.csv
	HF_HUB_OFFLINE=1 textclf predict --local imdb-embedding-logreg \
	  "A moving story with wonderful acting." "Dull, predictable and far too long."
	textclf status --local imdb-embedding-logreg

dev-cluster: setup
	$(PYTHON) hack/controlplane/controlplane.py up --dir .dev-cluster --crds crds

dev-cluster-down:
	$(PYTHON) hack/controlplane/controlplane.py down --dir .dev-cluster
