#!/bin/sh
# A second libvirt host on this machine that shares nothing with the first but a network link: its own network
# namespace (a veth pair on a /30 of its own) and its own mount namespace, with private directories over
# libvirt's runtime, state, configuration, cache and log directories and a private tmpfs for its storage pool,
# and its own virtlogd and libvirtd listening on TCP on the namespace's address.
#
#   scripts/netns-host.sh start NAME INDEX DIR   # INDEX 1..250 picks 10.251.INDEX.0/30; prints the libvirt URI
#   scripts/netns-host.sh stop NAME DIR          # kills the host's qemu processes and daemons, removes the netns
#   scripts/netns-host.sh kill NAME DIR          # the host dies: SIGKILL to its daemons and qemu processes
#
# The host's pool is at /var/lib/snaplab-pool inside its namespace: nothing outside sees it. Its daemons write
# their pid files into DIR, so `stop` and scripts/setup.sh never mistake them for the machine's own.
set -eu

usage() {
    echo "usage: $0 start NAME INDEX DIR | stop NAME DIR | kill NAME DIR" >&2
    exit 2
}
[ $# -ge 3 ] || usage
command=$1
name=$2
netns="snaplab-$name"
veth_host="vsl-$name-a"
veth_guest="vsl-$name-b"

# Every process of the host: its daemons and the qemu processes it started (by their network namespace).
host_pids() {
    ip netns pids "$netns" 2> /dev/null || true
}

stop_host() {
    signal=$1
    for pid in $(host_pids); do kill "-$signal" "$pid" 2> /dev/null || true; done
    tries=0
    while [ -n "$(host_pids)" ] && [ "$tries" -lt 100 ]; do
        sleep 0.1
        tries=$((tries + 1))
    done
    for pid in $(host_pids); do kill -9 "$pid" 2> /dev/null || true; done
}

case "$command" in
stop)
    dir=$3
    stop_host TERM
    ip link delete "$veth_host" 2> /dev/null || true
    ip netns delete "$netns" 2> /dev/null || true
    rm -f "$dir/libvirtd.pid" "$dir/virtlogd.pid"
    exit 0
    ;;
kill)
    stop_host KILL
    exit 0
    ;;
start) ;;
*) usage ;;
esac

[ $# -eq 4 ] || usage
index=$3
dir=$4
host_address="10.251.$index.1"
address="10.251.$index.2"

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
if ip netns list | grep -qw "$netns"; then
    echo "netns-host: $netns exists already; stop it first ($0 stop $name DIR)" >&2
    exit 1
fi
trap 'status=$?; if [ $status -ne 0 ]; then "$0" stop "$name" "$dir" > /dev/null 2>&1; tail -n 20 "$dir"/log/*.log >&2 2> /dev/null; fi' EXIT

ip netns add "$netns"
ip link add "$veth_host" type veth peer name "$veth_guest"
ip link set "$veth_guest" netns "$netns"
ip addr add "$host_address/30" dev "$veth_host"
ip link set "$veth_host" up
ip -n "$netns" addr add "$address/30" dev "$veth_guest"
ip -n "$netns" link set "$veth_guest" up
ip -n "$netns" link set lo up

# The host's own copies of libvirt's directories. Its configuration starts as this machine's (qemu.conf, the
# storage and secret drivers') plus a libvirtd.conf that listens on TCP on the namespace's address only; its
# capabilities cache starts as this machine's so it does not probe qemu again.
mkdir -p "$dir/etc" "$dir/lib" "$dir/cache" "$dir/log/qemu" "$dir/run"
cp -a /etc/libvirt/. "$dir/etc/"
rm -rf "$dir/etc/storage/"* "$dir/etc/qemu/"*.xml "$dir/etc/qemu/autostart" 2> /dev/null || true
mkdir -p "$dir/lib/qemu" "$dir/lib/images" "$dir/lib/dnsmasq"
[ -d /var/cache/libvirt ] && cp -a /var/cache/libvirt/. "$dir/cache/" 2> /dev/null || true
cat > "$dir/etc/libvirtd.conf" << EOF
listen_tls = 0
listen_tcp = 1
listen_addr = "$address"
auth_tcp = "none"
unix_sock_group = "root"
unix_sock_rw_perms = "0770"
log_outputs = "3:file:/var/log/libvirt/libvirtd.log"
EOF
cat > "$dir/etc/virtlogd.conf" << EOF
log_outputs = "3:file:/var/log/libvirt/virtlogd.log"
EOF
chmod 0755 "$dir"

nsenter --net="/run/netns/$netns" unshare --mount --propagation private sh -c "
    set -e
    mount --bind '$dir/etc' /etc/libvirt
    mount --bind '$dir/lib' /var/lib/libvirt
    mount --bind '$dir/cache' /var/cache/libvirt
    mount --bind '$dir/log' /var/log/libvirt
    mount --bind '$dir/run' /run/libvirt
    mkdir -p /var/lib/snaplab-pool
    mount -t tmpfs -o size=8g,mode=0755 snaplab-pool-$name /var/lib/snaplab-pool
    virtlogd -d -p '$dir/virtlogd.pid'
    libvirtd -d --listen -p '$dir/libvirtd.pid'
" > "$dir/log/start.log" 2>&1

uri="qemu+tcp://$address/system"
tries=0
until virsh -c "$uri" version > /dev/null 2>&1; do
    tries=$((tries + 1))
    if [ "$tries" -gt 600 ]; then
        echo "netns-host: libvirtd of $name does not answer on $uri after 60 s" >&2
        exit 1
    fi
    sleep 0.1
done
echo "$uri"
