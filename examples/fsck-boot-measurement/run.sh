#!/bin/sh
# fsck-time boot measurement: boots the same tiny OS from boot disks of 256 MiB, 1 GiB, 4 GiB and 16 GiB, empty
# and half full (64 MiB random files to 50 %, plus 20 000 small files), with the boot-time check skipped,
# automatic or forced, three times each (72 boots), then a second sweep of filesystem variants at 4 GiB half
# full with the check forced. Writes CSV, JSON and the plot into OUT (default ./boot-bench).
# Run from the repository root after `swift build -c release` (as root):
#   sh examples/fsck-boot-measurement/run.sh [OUT]
# It takes about an hour on a 2-core machine, most of it building and copying the 16 GiB disk once.
set -eu
cd "$(dirname "$0")/../.."
out="${1:-boot-bench}"
export SNAPLAB_STATE_DIR="${SNAPLAB_STATE_DIR:-/var/lib/snaplab-bench}"
snaplab=".build/release/snaplab"
[ -x "$snaplab" ] || snaplab=".build/debug/snaplab"

"$snaplab" host init --pool-name snaplab-bench
"$snaplab" bench boot \
    --size 256M --size 1G --size 4G --size 16G \
    --fill 0 --fill 50 --small-files 20000 \
    --fsck skip --fsck auto --fsck force \
    --repeats 3 --out "$out/default"
"$snaplab" bench boot --size 4G --fill 50 --small-files 20000 --fsck force --repeats 3 \
    --variant default= \
    --variant no-csum='-O ^metadata_csum' \
    --variant uninit-bg='-O ^metadata_csum,uninit_bg' \
    --variant few-inodes='-i 65536' \
    --variant many-inodes='-i 8192' \
    --variant no-csum-many-inodes='-O ^metadata_csum -i 8192' \
    --out "$out/variants"
echo "results in $out/default and $out/variants (boot.csv, boot.json, boot.svg, boot.png)"
