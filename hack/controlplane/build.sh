#!/usr/bin/env bash
# Build etcd, kube-apiserver and kube-controller-manager from their Go modules (never a prebuilt
# download) into a cache folder outside the repository, keyed by this module's go.mod and go.sum.
# Prints the folder holding the binaries. A second run with the same go.mod/go.sum is a no-op.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
key="$(cat "$here/go.mod" "$here/go.sum" | sha256sum | cut -c1-16)"
cache="${TEXTCLF_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/textclf}"
out="$cache/controlplane-$key/bin"

if [[ -x "$out/kube-apiserver" && -x "$out/kube-controller-manager" && -x "$out/etcd" ]]; then
  echo "$out"
  exit 0
fi

mkdir -p "$out.tmp"
cd "$here"
echo "building the control plane into $out (first time: about 15 minutes on 2 cores)" >&2
# -trimpath and stripped symbols: smaller binaries, same behaviour.
go build -trimpath -ldflags "-s -w" -o "$out.tmp/" \
  k8s.io/kubernetes/cmd/kube-apiserver \
  k8s.io/kubernetes/cmd/kube-controller-manager \
  go.etcd.io/etcd/server/v3 >&2
mv "$out.tmp/v3" "$out.tmp/etcd" 2>/dev/null || mv "$out.tmp/server" "$out.tmp/etcd"
rm -rf "$out"
mv "$out.tmp" "$out"
echo "$out"
