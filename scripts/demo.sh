#!/bin/sh
# The main job end to end, on real libvirt and real TCG guests, printing each step: build the tiny guest image,
# create boot and data volumes, boot an instance, write to its data disk through the guest agent, snapshot the
# data volume while the guest runs (frozen filesystem, then incremental), stop and start the instance, restore
# the first snapshot into a new volume and boot a second instance with it from another boot volume.
# Cleans up what it created (the image build stays cached).
set -eu
cd "$(dirname "$0")/.."

export SNAPLAB_STATE_DIR="${SNAPLAB_STATE_DIR:-/var/lib/snaplab-demo}"
snaplab=".build/debug/snaplab"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { echo "\$ snaplab $*"; "$snaplab" "$@"; }
field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

step "Prepare the host (libvirt connection, storage pool)"
run host init --pool-name snaplab-demo

step "Build the tiny guest image (kernel + initramfs + ext4 boot volume; cached after the first time)"
run image build images/tiny

step "Create a boot volume from the image and an empty 64 MiB data volume"
boot1=$("$snaplab" volume create --role boot --recipe images/tiny --tag demo=yes)
data=$("$snaplab" volume create --role data --size 64M --tag demo=yes --tag backup=hourly)
echo "boot volume $boot1, data volume $data"
run volume list

step "Boot an instance with both (forced fsck of the boot disk); returns when the guest says ready"
first=$("$snaplab" instance run --boot-volume "$boot1" --data-volume "$data" --fsck force)
run instance describe "$first"

step "Write a file to /data through the guest agent"
run instance exec "$first" -- /bin/sh -c "echo 'version 1 from $first' > /data/hello.txt && sync && cat /data/hello.txt"

step "Snapshot the data volume while the guest runs (the agent freezes /data for the instant)"
snap1=$("$snaplab" snapshot create "$data" --wait --output json | field '[0]["id"]')
run instance exec "$first" -- /bin/sh -c "echo 'version 2' > /data/hello.txt && sync"
echo "\$ snaplab snapshot create $data --wait   # incremental: reads only what changed"
"$snaplab" snapshot create "$data" --wait
run snapshot list

step "Stop and start the instance; the file is still there"
run instance stop "$first"
run instance start "$first"
run instance exec "$first" -- cat /data/hello.txt

step "Deleting the data volume while attached is refused"
"$snaplab" volume delete "$data" || echo "(refused, as it should be)"

step "Terminate the instance: its boot volume goes, the data volume stays"
run instance terminate "$first"

step "Restore the first snapshot into a new volume and boot a second instance with it"
restored=$("$snaplab" snapshot restore "$snap1")
boot2=$("$snaplab" volume create --role boot --recipe images/tiny --tag demo=yes)
second=$("$snaplab" instance run --boot-volume "$boot2" --data-volume "$restored")
run instance exec "$second" -- cat /data/hello.txt
run volume list

step "Check every stored chunk"
run store verify

step "Clean up"
run instance terminate "$second" --delete-data-volumes
run volume delete "$data"
for snapshot in $("$snaplab" snapshot list --output json | python3 -c 'import json,sys; print(" ".join(s["id"] for s in json.load(sys.stdin)))'); do
    "$snaplab" snapshot delete "$snapshot"
done
run store gc
echo
echo "demo finished: state in $SNAPLAB_STATE_DIR, image cache in $SNAPLAB_STATE_DIR/image-cache"
