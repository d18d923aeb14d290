#!/usr/bin/env bash
# Install the Debian packages Stratus needs, only those missing (fast when all are present).
set -euo pipefail
PACKAGES=(
  python3-venv python3-dev gcc pkg-config
  qemu-system-x86 qemu-utils libvirt-daemon-system libvirt-dev
  linux-image-cloud-amd64 busybox-static syslinux syslinux-common mtools dosfstools fdisk
  iproute2 ethtool openvswitch-switch ovn-central ovn-host
  chromium socat iperf3
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -ne 0 ]; then
  echo "Missing Debian packages: ${missing[*]}; run as root (sudo make ...) so they can be installed." >&2
  exit 1
fi
echo "Installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
