#!/bin/sh
# Periodic data-disk backups: a guest that keeps writing to /data, a policy with grandfather-father-son retention
# run by the daemon (every 5 seconds here, so the demo shows real runs and prunes in half a minute), then the
# generations it kept, and one of them restored and read from the host.
# Run from the repository root after `make build` (as root): sh examples/periodic-backups/run.sh
set -eu
cd "$(dirname "$0")/../.."
export SNAPLAB_STATE_DIR="${SNAPLAB_STATE_DIR:-/var/lib/snaplab-examples}"
snaplab=".build/debug/snaplab"
step() { printf '\n== %s\n' "$*"; }

step "a guest that keeps writing to its data disk"
"$snaplab" host init --pool-name snaplab-examples
boot=$("$snaplab" volume create --role boot --recipe images/tiny)
data=$("$snaplab" volume create --role data --size 64M --tag backup=hourly)
instance=$("$snaplab" instance run --boot-volume "$boot" --data-volume "$data")
"$snaplab" instance exec "$instance" -- /bin/sh -c \
    'sh -c "i=0; while :; do i=\$((i+1)); echo \"\$(date +%T) entry \$i\" >> /data/journal; sleep 1; done" > /dev/null 2>&1 &'

step "the policy: every data volume tagged backup=hourly; GFS retention 24 hourly + 7 daily + 4 weekly"
echo "(for the demo the schedule is every 5 seconds; in real use: --every 1h or --cron '0 * * * *')"
policy=$("$snaplab" policy create --name hourly --target-tag backup=hourly --every 5s \
    --keep-hourly 24 --keep-daily 7 --keep-weekly 4 --keep-last 3)
"$snaplab" policy describe "$policy"

step "the daemon runs it (30 seconds)"
"$snaplab" daemon --tick 1 > /tmp/snaplab-example-daemon.log 2>&1 &
daemon=$!
sleep 30
kill -TERM "$daemon"
wait "$daemon" || true
"$snaplab" policy history "$policy"

step "the generations kept"
"$snaplab" snapshot list --volume "$data"

step "restore the oldest kept generation into a new volume and look at it from the host"
oldest=$("$snaplab" snapshot list --volume "$data" --output json | python3 -c \
    'import json,sys; s=[x for x in json.load(sys.stdin) if x["state"]=="completed"]; print(s[0]["id"])')
restored=$("$snaplab" snapshot restore "$oldest")
path=$("$snaplab" volume describe "$restored" --output json | python3 -c 'import json,sys; print(json.load(sys.stdin)["path"])')
qemu-img convert -O raw "$path" /tmp/snaplab-example-restore.raw
echo "last entries in $oldest:"
debugfs -R "cat /journal" /tmp/snaplab-example-restore.raw 2>/dev/null | tail -n 3
rm -f /tmp/snaplab-example-restore.raw

step "clean up"
"$snaplab" volume delete "$restored"
"$snaplab" instance terminate "$instance" --delete-data-volumes
"$snaplab" policy delete "$policy"
