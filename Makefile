# textclf's developer entry points. `make demo` and `make test` do all set-up on a fresh machine.
PYTHON ?= python3
PIP_INSTALL = $(PYTHON) -m pip install --quiet --disable-pip-version-check
# Builds and caches live outside the repository (as in hack/: TEXTCLF_CACHE or ~/.cache/textclf).
CACHE ?= $(or $(TEXTCLF_CACHE),$(or $(XDG_CACHE_HOME),$(HOME)/.cache)/textclf)

.PHONY: setup setup-all setup-python setup-controlplane build-controlplane setup-packages setup-node \
	setup-images setup-lint crds manifests lint test test-fast demo \
	dev-cluster dev-cluster-down images cluster cluster-down e2e

# Everything a fresh machine needs, in parallel where the parts do not wait on each other: the pip
# install, the Debian packages and then the images (mostly downloads and disk) beside the Go builds
# (CPU). Each part's output is printed whole when it ends.
setup:
	@$(MAKE) --no-print-directory -j3 --output-sync=target setup-all

setup-all: setup-python setup-controlplane setup-node setup-images

setup-python:
	$(PIP_INSTALL) -e '.[dev]'

# etcd, kube-apiserver and kube-controller-manager built from their Go modules, cached outside the
# repo; kubectl and helm from their PyPI package.
setup-controlplane: build-controlplane setup-python
	$(PYTHON) hack/controlplane/controlplane.py build >/dev/null

build-controlplane:
	bash hack/controlplane/build.sh >/dev/null

# Root's Debian packages for the real one-node cluster (containerd, runc, buildah, CNI plugins),
# where apt-get can install them.
setup-packages:
	bash hack/node/packages.sh

# kubelet, kube-scheduler, kube-proxy and CoreDNS for the real one-node cluster (after the control
# plane's build, whose Go build cache they share).
setup-node: build-controlplane setup-packages
	bash hack/node/build.sh >/dev/null

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
	$(PYTHON) -m mypy --cache-dir "$(CACHE)/mypy"
	lint-imports

# The whole suite: lint, type checks, unit tests, the real control plane, real training, the real
# node. Two pytest-xdist workers, one per lane (tests/conftest.py LANES): one trains models (CPU),
# the other mostly waits on API servers and Pods, so on two cores they overlap. PYTEST_ARGS= runs
# it in one process.
PYTEST_ARGS ?= -n 2 --dist loadgroup
# The checks run beside the rest of the set-up once the pip install is done.
test:
	@$(MAKE) --no-print-directory -j3 --output-sync=target setup-all setup-lint
	$(PYTHON) -m pytest $(PYTEST_ARGS) --durations=25

setup-lint: setup-python
	@$(MAKE) --no-print-directory lint

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

# The operator, trainer (+ packaged encoder) and pause images, built with buildah from the Dockerfiles
# (layer cache and OCI archives outside the repository: seconds when nothing changed). The build
# needs only the standard library, so it starts before the pip install is done.
setup-images: setup-packages
	$(PYTHON) hack/images/images.py build >/dev/null

images: setup-images
	$(PYTHON) hack/images/images.py build

# A real one-node cluster (kubelet, containerd, runc, CNI, kube-proxy, CoreDNS) with textclf installed.
cluster: setup
	$(PYTHON) hack/cluster/cluster.py up --dir .cluster

cluster-down:
	$(PYTHON) hack/cluster/cluster.py down --dir .cluster

# Only the end-to-end suite on the real node (`make test` runs it too).
e2e: setup
	$(PYTHON) -m pytest -m e2e tests/e2e

dev-cluster: setup
	$(PYTHON) hack/controlplane/controlplane.py up --dir .dev-cluster --crds crds

dev-cluster-down:
	$(PYTHON) hack/controlplane/controlplane.py down --dir .dev-cluster
