#!/usr/bin/env bash
# Installs what lvsd's test tiers and demo need on a Debian machine:
# iproute2 for the lab, keepalived as the VRRP interop peer, ipvsadm to
# compare tables, nftables to mark packets for fwmark services in the VM,
# and qemu + busybox + cpio + kmod to boot the IPVS kernel.
# The kernel itself is fetched by test/vm into .cache/ on first use.
set -euo pipefail

packages=(qemu-system-x86 busybox-static cpio kmod xz-utils keepalived ipvsadm iproute2 tcpdump nftables iptables)

if [ "$(id -u)" -ne 0 ]; then
  echo "setup: must run as root: the lab creates network namespaces and apt installs packages" >&2
  exit 1
fi
if [ ! -r /etc/debian_version ] || ! command -v apt-get >/dev/null; then
  echo "setup: needs Debian (apt-get and Debian's linux-image-cloud-amd64 for the VM tier)" >&2
  exit 1
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# keepalived's package starts a service; the tests run their own instances.
if command -v systemctl >/dev/null && systemctl is-active --quiet keepalived 2>/dev/null; then
  systemctl stop keepalived || true
fi
command -v go >/dev/null || { echo "setup: Go is not on PATH (expected /usr/local/go/bin)" >&2; exit 1; }
echo "setup: ok"
