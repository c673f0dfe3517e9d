#!/bin/sh
# Prepares a Debian 12 machine for snaplab: packages, /dev/kvm permissions, the libvirt daemons.
# Idempotent and quick when everything is already in place. Run as root.
set -eu

packages="libvirt-daemon libvirt-daemon-driver-qemu libvirt-daemon-system libvirt-clients libvirt-dev
qemu-system-x86 qemu-utils qemu-block-extra libnbd-dev libnbd-bin libzstd-dev libsqlite3-dev openssl
busybox-static qemu-guest-agent e2fsprogs cpio kmod gzip pkg-config librsvg2-bin curl chromium chromium-driver
restic borgbackup
ovmf genisoimage openssh-client mmdebstrap fdisk dosfstools mtools
ceph-mon ceph-osd radosgw uuid-runtime"

if [ "$(id -u)" != 0 ]; then
    echo "setup.sh: run as root (it installs packages and starts libvirtd)" >&2
    exit 1
fi

missing=""
for package in $packages; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing="$missing $package"
done
if [ -n "$missing" ]; then
    echo "setup: installing$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing > /tmp/snaplab-apt.log 2>&1 || {
        tail -n 30 /tmp/snaplab-apt.log >&2
        exit 1
    }
fi

# The API tests drive the server with unmodified AWS clients and the console with a headless browser; the S3
# store tests run against a real Ceph gateway (scripts/ceph-cluster.sh, started by the tests), and against moto's
# S3-compatible server on loopback where a test cuts the server off and needs it to lose everything.
python_packages="boto3 awscli pytest selenium moto[server]"
if ! python3 -c "import boto3, pytest, selenium, moto.server" > /dev/null 2>&1 || ! command -v aws > /dev/null 2>&1; then
    echo "setup: installing $python_packages (pip)"
    # shellcheck disable=SC2086
    python3 -m pip install -q $python_packages > /tmp/snaplab-pip.log 2>&1 || { tail -n 20 /tmp/snaplab-pip.log >&2; exit 1; }
fi

# Without udev, /dev/kvm stays root-only. libvirt then sees KVM in its cached qemu capabilities but not as
# usable by the qemu user, declares the cache stale and re-probes qemu (about a minute) on every domain
# define. Debian's udev rule makes it root:kvm 0660; do the same. Domains still run as TCG (type='qemu').
if [ -c /dev/kvm ]; then
    chgrp kvm /dev/kvm 2>/dev/null || true
    chmod 0660 /dev/kvm
fi

# This machine's daemons are told by their pid files: the tests' second host (scripts/netns-host.sh) runs
# a virtlogd and a libvirtd of its own in other namespaces, which `pgrep -x` would mistake for these.
running() {
    [ -f "/run/$1.pid" ] && kill -0 "$(cat "/run/$1.pid")" 2> /dev/null &&
        [ "$(cat "/proc/$(cat "/run/$1.pid")/comm" 2> /dev/null)" = "$1" ]
}
mkdir -p /run/libvirt
if ! running virtlogd; then
    echo "setup: starting virtlogd"
    virtlogd -d
fi
if ! running libvirtd; then
    echo "setup: starting libvirtd"
    libvirtd -d
fi
tries=0
until virsh -c qemu:///system version > /dev/null 2>&1; do
    tries=$((tries + 1))
    if [ "$tries" -gt 300 ]; then
        echo "setup: libvirtd does not answer on qemu:///system after 30 s" >&2
        exit 1
    fi
    sleep 0.1
done
# Guests, qemu-img and the tests' Ceph daemons all need threads: say what this machine allows, for a failed run.
pids_max=$(cat /sys/fs/cgroup/pids.max /sys/fs/cgroup/pids/pids.max 2> /dev/null | head -n 1)
echo "setup: task limits: processes per user $(ulimit -p), threads-max $(cat /proc/sys/kernel/threads-max), cgroup pids.max ${pids_max:-none}"
echo "setup: ready ($(virsh -c qemu:///system version | awk '/Running hypervisor/ { print $3, $4 }'))"
