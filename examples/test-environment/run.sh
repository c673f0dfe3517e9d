#!/bin/sh
# Test environments from an image: builds a "web" image from a running instance (its boot disk and its data disk
# as they are after a "release"), then brings up lab.yaml twice (the second time changes nothing), shows the
# instances and their data, and takes the environment down again.
# Run from the repository root after `make build` (as root): sh examples/test-environment/run.sh
set -eu
cd "$(dirname "$0")/../.."
export SNAPLAB_STATE_DIR="${SNAPLAB_STATE_DIR:-/var/lib/snaplab-examples}"
snaplab=".build/debug/snaplab"
here="examples/test-environment"
step() { printf '\n== %s\n' "$*"; }

step "host and a source instance"
"$snaplab" host init --pool-name snaplab-examples
boot=$("$snaplab" volume create --role boot --recipe images/tiny)
data=$("$snaplab" volume create --role data --size 64M)
source=$("$snaplab" instance run --boot-volume "$boot" --data-volume "$data")
"$snaplab" instance exec "$source" -- /bin/sh -c 'echo "web server v1" > /root/version && echo "catalogue of release 1" > /data/catalogue && sync'

step "the release: a snapshot of the data disk tagged release=current, and the web image (no reboot)"
"$snaplab" snapshot create "$data" --wait --tag release=current
image=$("$snaplab" image create-from-instance "$source" --name web)
"$snaplab" image describe "$image"

step "up (launches 4 instances together)"
"$snaplab" up -f "$here/lab.yaml"
step "up again (changes nothing)"
"$snaplab" up -f "$here/lab.yaml"
for instance in $("$snaplab" instance list --output json | python3 -c 'import json,sys; print(" ".join(i["id"] for i in json.load(sys.stdin) if i["tags"].get("snaplab:environment") == "web-test"))'); do
    printf '%s: ' "$instance"
    "$snaplab" instance exec "$instance" -- /bin/sh -c 'cat /root/version; cat /data/catalogue 2>/dev/null || echo "(empty data disk)"' | tr '\n' ' '
    echo
done

step "down (the source instance is not part of the environment and stays)"
"$snaplab" down -f "$here/lab.yaml"
"$snaplab" instance list

step "clean up the source"
"$snaplab" instance terminate "$source" --delete-data-volumes
"$snaplab" image deregister "$image"
