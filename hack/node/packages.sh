#!/usr/bin/env bash
# The Debian packages of the real one-node cluster: containerd and runc run the Pods, buildah and
# debootstrap build the images, the CNI plugins wire Pods to the bridge, iptables and conntrack serve
# kube-proxy. Installed with apt-get when missing (as root); a no-op once they are there.
set -euo pipefail
packages=(runc containerd buildah debootstrap containernetworking-plugins iptables conntrack iproute2)
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0
if [[ $(id -u) -ne 0 ]]; then
  echo "the real cluster needs these Debian packages, as root: apt-get install -y ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q "${missing[@]}" >/dev/null
