#!/bin/sh
# A lab whose snapshots live in Ceph: a one-node Ceph cluster (monitor, BlueStore OSD on a sparse file, S3
# gateway) in a temporary directory, a lab whose store is a bucket there, a running guest whose data disk is
# snapshotted into it, an image made from the guest, a fresh instance launched from that image, a verify of the
# store, and a copy of every snapshot back into a directory store.
# Run from the repository root after `make build` (as root): sh examples/ceph-store/run.sh
set -eu
cd "$(dirname "$0")/../.."
snaplab=".build/debug/snaplab"
cluster=$(mktemp -d /tmp/snaplab-ceph-example.XXXXXX)
chmod 0755 "$cluster" # qemu runs as its own user and must reach the pool inside
# A lab of its own, removed at the end with its pool: its catalog must not list snapshots of another store.
export SNAPLAB_STATE_DIR="$cluster/lab"
pool=snaplab-ceph-example-$(basename "$cluster" | cut -d. -f2 | tr 'A-Z' 'a-z')
step() { printf '\n== %s\n' "$*"; }

cleanup() {
    "$snaplab" instance list --output json 2> /dev/null | python3 -c \
        'import json,sys; [print(i["id"]) for i in json.load(sys.stdin)]' | while read -r id; do
        "$snaplab" instance terminate "$id" --delete-data-volumes > /dev/null 2>&1 || true
    done
    "$snaplab" volume list --output json 2> /dev/null | python3 -c \
        'import json,sys; [print(v["id"]) for v in json.load(sys.stdin)]' | while read -r id; do
        "$snaplab" volume delete "$id" > /dev/null 2>&1 || true
    done
    virsh -q pool-destroy "$pool" > /dev/null 2>&1 || true
    virsh -q pool-undefine "$pool" > /dev/null 2>&1 || true
    sh scripts/ceph-cluster.sh stop "$cluster"
    rm -rf "$cluster"
}
trap cleanup EXIT

step "a one-node Ceph cluster with its S3 gateway (about 15 seconds)"
endpoint=$(sh scripts/ceph-cluster.sh start "$cluster" --port 7480 --bluestore-file-bytes 16G 2> /dev/null)
set -a
. "$cluster/s3.env"
set +a
echo "gateway at $endpoint; user credentials in $cluster/s3.env"
ceph -c "$cluster/ceph.conf" -s 2> /dev/null | sed -n '/services:/,/osd:/p'

step "a lab whose snapshot store is the bucket 'snaplab' in Ceph"
"$snaplab" host init --pool-name "$pool" --store "s3://snaplab/lab?endpoint=$endpoint"
"$snaplab" store show

step "a guest writing to its data disk, snapshotted while it runs"
boot=$("$snaplab" volume create --role boot --recipe images/tiny)
data=$("$snaplab" volume create --role data --size 64M)
instance=$("$snaplab" instance run --boot-volume "$boot" --data-volume "$data")
"$snaplab" instance exec "$instance" -- /bin/sh -c 'echo "written before the snapshot" > /data/note && sync'
"$snaplab" snapshot create "$data" --wait

step "what the bucket holds (packs of compressed chunks, indexes, one manifest per snapshot)"
aws --endpoint-url "$endpoint" s3 ls s3://snaplab/lab/ --recursive | awk '{ printf "%8d  %s\n", $3, $4 }'


step "an image from the guest, launched as a fresh instance (its base hydrated from Ceph)"
image=$("$snaplab" image create-from-instance "$instance" --name from-ceph)
second=$("$snaplab" instance run --image "$image" --no-lazy)
"$snaplab" instance exec "$second" -- cat /data/note

step "verify every chunk in the bucket, then copy all snapshots into a directory store"
"$snaplab" store verify
"$snaplab" store copy --to "dir://$cluster/copy"

step "clean up (the trap terminates the instances and stops the cluster)"
"$snaplab" image deregister "$image"
