#!/usr/bin/env bash
# Build kubelet, kube-scheduler, kube-proxy (the Kubernetes release of hack/controlplane) and CoreDNS
# (its own module, hack/dns) from their Go modules into a cache folder outside the repository, keyed
# by this module's files. Prints the folder holding the binaries. A second run is a no-op.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
key="$(cat "$0" "$here/go.mod" "$here/go.sum" "$here/../dns/go.mod" "$here/../dns/go.sum" \
  | sha256sum | cut -c1-16)"
# The release the binaries report (a module build has no git tree to read it from).
release="$(sed -n 's#^\tk8s.io/kubernetes v\([0-9.]*\).*#\1#p' "$here/go.mod")"
version="-X k8s.io/component-base/version.gitVersion=v$release \
  -X k8s.io/component-base/version.gitMajor=${release%%.*} \
  -X k8s.io/component-base/version.gitMinor=$(echo "$release" | cut -d. -f2)"
cache="${TEXTCLF_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/textclf}"
out="$cache/node-$key/bin"

if [[ -x "$out/kubelet" && -x "$out/kube-scheduler" && -x "$out/kube-proxy" && -x "$out/coredns" ]]; then
  echo "$out"
  exit 0
fi

mkdir -p "$out.tmp"
cd "$here"
echo "building the node into $out (first time: a few minutes after the control plane)" >&2
go build -trimpath -ldflags "-s -w $version" -o "$out.tmp/" \
  k8s.io/kubernetes/cmd/kubelet \
  k8s.io/kubernetes/cmd/kube-scheduler \
  k8s.io/kubernetes/cmd/kube-proxy >&2
(cd "$here/../dns" && go build -trimpath -ldflags "-s -w" -o "$out.tmp/coredns" github.com/coredns/coredns >&2)
rm -rf "$out"
mv "$out.tmp" "$out"
echo "$out"
