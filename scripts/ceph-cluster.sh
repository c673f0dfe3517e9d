#!/bin/sh
# A throwaway Ceph cluster with an S3 gateway, all of it inside one directory: one monitor, one OSD, one radosgw.
#
#   scripts/ceph-cluster.sh start DIR [--address ADDR] [--port PORT] [--memstore-bytes N | --bluestore-file-bytes N]
#   scripts/ceph-cluster.sh stop DIR
#
# `start` prints the S3 endpoint and writes DIR/s3.env (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION,
# SNAPLAB_S3_ENDPOINT) for a user made by radosgw-admin. The OSD keeps its objects in memory (memstore, 1 GiB by
# default; the gateway answers 507 when it is full) or, with --bluestore-file-bytes, in a sparse file in DIR.
# Everything (ceph.conf, keyrings, run and log directories, pid files) lives in DIR, so two clusters never meet
# and `stop` touches only the daemons whose pid files are there.
set -eu

usage() {
    echo "usage: $0 start DIR [--address ADDR] [--port PORT] [--memstore-bytes N | --bluestore-file-bytes N]" >&2
    echo "       $0 stop DIR" >&2
    exit 2
}

[ $# -ge 2 ] || usage
command=$1
dir=$2
shift 2

stop_cluster() {
    for name in client.rgw.gw osd.0 mon.a; do
        pidfile="$dir/run/$name.pid"
        [ -f "$pidfile" ] || continue
        pid=$(cat "$pidfile")
        kill "$pid" 2> /dev/null || true
        tries=0
        while kill -0 "$pid" 2> /dev/null && [ "$tries" -lt 100 ]; do
            sleep 0.1
            tries=$((tries + 1))
        done
        kill -9 "$pid" 2> /dev/null || true
        rm -f "$pidfile"
    done
}

case "$command" in
stop)
    stop_cluster
    exit 0
    ;;
start) ;;
*) usage ;;
esac

address=127.0.0.1
port=7480
memstore_bytes=1073741824
bluestore_bytes=""
while [ $# -gt 0 ]; do
    case "$1" in
    --address) address=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    --memstore-bytes) memstore_bytes=$2; shift 2 ;;
    --bluestore-file-bytes) bluestore_bytes=$2; shift 2 ;;
    *) usage ;;
    esac
done

for tool in ceph-mon ceph-osd radosgw radosgw-admin ceph ceph-authtool monmaptool uuidgen curl; do
    command -v "$tool" > /dev/null || { echo "ceph-cluster: $tool is missing (run scripts/setup.sh)" >&2; exit 1; }
done

mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
if [ -e "$dir/ceph.conf" ]; then
    echo "ceph-cluster: $dir already holds a cluster; stop it and remove the directory first" >&2
    exit 1
fi
mkdir -p "$dir/run" "$dir/log" "$dir/mon/a" "$dir/osd/0" "$dir/rgw"
trap 'status=$?; if [ $status -ne 0 ]; then stop_cluster; tail -n 20 "$dir"/log/*.log >&2 2> /dev/null; fi' EXIT

# The monitor listens on a port next to the gateway's, so clusters on different gateway ports never collide.
mon_port=$((port + 1))
fsid=$(uuidgen)
if [ -n "$bluestore_bytes" ]; then
    # BlueStore creates DIR/osd/0/block itself, a sparse file of that size.
    objectstore="osd objectstore = bluestore
bluestore block create = true
bluestore block size = $bluestore_bytes"
else
    objectstore="osd objectstore = memstore
memstore device bytes = $memstore_bytes"
fi

cat > "$dir/ceph.conf" << EOF
[global]
fsid = $fsid
mon host = v2:127.0.0.1:$mon_port
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
keyring = $dir/\$name.keyring
run dir = $dir/run
admin socket = $dir/run/\$name.asok
pid file = $dir/run/\$name.pid
log file = $dir/log/\$name.log
mon data = $dir/mon/\$id
osd data = $dir/osd/\$id
rgw data = $dir/rgw
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd crush chooseleaf type = 0
mon allow pool size one = true
mon warn on pool no redundancy = false
mon allow pool delete = true
# A lab disk is often fuller than 70 %: the monitor would warn, and stop below 5 %.
mon data avail warn = 1
mon data avail crit = 0
ms bind ipv6 = false
$objectstore

[client.rgw.gw]
rgw frontends = beast endpoint=$address:$port
rgw dns name = $address
# 512 request threads by default: 600 threads in all, enough to meet a container's task limit.
rgw thread pool size = 16
EOF
export CEPH_CONF="$dir/ceph.conf"

ceph-authtool --create-keyring "$dir/mon.a.keyring" --gen-key -n mon. --cap mon 'allow *' > /dev/null
ceph-authtool --create-keyring "$dir/client.admin.keyring" --gen-key -n client.admin \
    --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' > /dev/null
ceph-authtool "$dir/mon.a.keyring" --import-keyring "$dir/client.admin.keyring" > /dev/null
monmaptool --create --addv a "[v2:127.0.0.1:$mon_port]" --fsid "$fsid" "$dir/monmap" > /dev/null
ceph-mon --mkfs -i a --monmap "$dir/monmap" --keyring "$dir/mon.a.keyring"
ceph-mon -i a > "$dir/log/mon.out" 2>&1 < /dev/null

osd_uuid=$(uuidgen)
osd_id=$(ceph --connect-timeout 60 osd new "$osd_uuid")
[ "$osd_id" = 0 ] || { echo "ceph-cluster: expected osd 0, got $osd_id" >&2; exit 1; }
ceph-osd -i 0 --mkfs --mkkey --osd-uuid "$osd_uuid" --no-mon-config > "$dir/log/osd-mkfs.log" 2>&1
# --mkkey wrote the OSD's key where ceph.conf's keyring line points: $dir/osd.0.keyring.
ceph auth add osd.0 osd 'allow *' mon 'allow profile osd' -i "$dir/osd.0.keyring" > /dev/null 2>&1
ceph-osd -i 0 > "$dir/log/osd.out" 2>&1 < /dev/null

ceph auth get-or-create client.rgw.gw mon 'allow rw' osd 'allow rwx' -o "$dir/client.rgw.gw.keyring"
radosgw -n client.rgw.gw > "$dir/log/rgw.out" 2>&1 < /dev/null

endpoint="http://$address:$port"
tries=0
until curl -s -o /dev/null --max-time 2 "$endpoint"; do
    tries=$((tries + 1))
    if [ "$tries" -gt 600 ]; then
        echo "ceph-cluster: the gateway does not answer on $endpoint after 2 minutes" >&2
        exit 1
    fi
    sleep 0.2
done

access_key=$(uuidgen | tr -d - | cut -c1-20 | tr a-z A-Z)
secret_key=$(uuidgen | tr -d -)$(uuidgen | tr -d - | cut -c1-8)
radosgw-admin -n client.admin user create --uid=snaplab --display-name=snaplab \
    --access-key="$access_key" --secret-key="$secret_key" > /dev/null
cat > "$dir/s3.env" << EOF
AWS_ACCESS_KEY_ID=$access_key
AWS_SECRET_ACCESS_KEY=$secret_key
AWS_REGION=us-east-1
SNAPLAB_S3_ENDPOINT=$endpoint
EOF
echo "$endpoint"
