#!/bin/sh
# Builds the tiny guest: a Debian kernel, a small initramfs and an ext4 boot volume (qcow2, compat 1.1).
# Usage: build.sh OUT_DIR
# Parameters (environment):
#   SNAPLAB_BOOT_SIZE      size of the boot volume (mke2fs syntax, default 256M)
#   SNAPLAB_MKFS_OPTIONS   extra mke2fs options for the boot filesystem (e.g. "-O ^metadata_csum -i 65536")
#   SNAPLAB_DEB_CACHE      where downloaded .deb files are kept between builds (default OUT_DIR/../debs)
#   SNAPLAB_FILL_PERCENT   fill the boot filesystem to about this percentage with /fill: 64 MiB random files, plus
#   SNAPLAB_FILL_SMALL     this many small files (one block each) in /fill/small: many inodes for fsck to walk
# Needs, from Debian: busybox-static, qemu-guest-agent, e2fsprogs, qemu-utils, cpio, kmod, and apt to download
# linux-image-amd64. Runs without root-only tricks: no mount, no loop device, no mknod.
set -eu

out="${1:?usage: build.sh OUT_DIR}"
recipe="$(cd "$(dirname "$0")" && pwd)"
size="${SNAPLAB_BOOT_SIZE:-256M}"
mkfs_options="${SNAPLAB_MKFS_OPTIONS:-}"
fill_percent="${SNAPLAB_FILL_PERCENT:-0}"
fill_small="${SNAPLAB_FILL_SMALL:-0}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
debs="${SNAPLAB_DEB_CACHE:-$out/../debs}"
mkdir -p "$debs"
work="$(mktemp -d "$out/.work.XXXXXX")"
trap 'rm -rf "$work"' EXIT

need() {
    command -v "$1" > /dev/null 2>&1 || { echo "build.sh: '$1' is missing; install the Debian package $2" >&2; exit 3; }
}
need busybox busybox-static
need qemu-ga qemu-guest-agent
need mke2fs e2fsprogs
need qemu-img qemu-utils
need cpio cpio
need depmod kmod

# Kernel: the Debian package, unpacked, never installed on the host.
kernel_pkg="$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')"
[ -n "$kernel_pkg" ] || { echo "build.sh: apt knows no linux-image-amd64; run apt-get update" >&2; exit 3; }
deb="$(ls "$debs/${kernel_pkg}_"*.deb 2>/dev/null | head -n 1 || true)"
if [ -z "$deb" ]; then
    (cd "$debs" && apt-get download "$kernel_pkg" > /dev/null 2>&1) || {
        echo "build.sh: cannot download $kernel_pkg; check the network and apt sources" >&2; exit 3; }
    deb="$(ls "$debs/${kernel_pkg}_"*.deb | head -n 1)"
fi
dpkg-deb -x "$deb" "$work/kernel"
kver="$(ls "$work/kernel/lib/modules" | head -n 1)"
depmod -b "$work/kernel" "$kver"

# Copies a program and every shared library it loads, keeping their paths.
copy_program() {
    program="$(command -v "$1")"
    dest="$2"
    mkdir -p "$dest$(dirname "$program")"
    cp -L "$program" "$dest$program"
    ldd "$program" | awk '/=> \// { print $3 } /^\t\/lib/ { print $1 }' | while read -r lib; do
        mkdir -p "$dest$(dirname "$lib")"
        cp -L "$lib" "$dest$lib"
    done
}

install_busybox() {
    root="$1"
    mkdir -p "$root/bin" "$root/sbin" "$root/usr/bin" "$root/usr/sbin"
    cp "$(command -v busybox)" "$root/bin/busybox"
    for applet in $(busybox --list); do
        [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
    done
}

# Stage 1: initramfs with the modules the boot disk needs and e2fsck.
initramfs="$work/initramfs"
install_busybox "$initramfs"
mkdir -p "$initramfs/proc" "$initramfs/sys" "$initramfs/dev" "$initramfs/newroot" "$initramfs/etc" "$initramfs/lib/modules"
copy_program e2fsck "$initramfs"
ln -sf /proc/mounts "$initramfs/etc/mtab"
cp "$recipe/initramfs/init" "$initramfs/init"
chmod 755 "$initramfs/init"
moddir="$work/kernel/lib/modules/$kver"
: > "$initramfs/etc/modules.list"
for wanted in virtio_pci virtio_blk virtio_console crc32c_generic ext4; do
    path="$(awk -F: -v m="$wanted" '{ n = $1; sub(/.*\//, "", n); sub(/\.ko.*$/, "", n); gsub(/-/, "_", n); if (n == m) { print $0; exit } }' "$moddir/modules.dep")"
    [ -n "$path" ] || { echo "build.sh: module $wanted not found in $kver" >&2; exit 3; }
    # modules.dep lists a module's dependencies after it, deepest last: load them in reverse.
    for module in $(echo "$path" | tr -d ':' | awk '{ for (i = NF; i > 0; i--) print $i }'); do
        grep -qx "$module" "$initramfs/etc/modules.list" && continue
        mkdir -p "$initramfs/lib/modules/$(dirname "$module")"
        cp "$moddir/$module" "$initramfs/lib/modules/$module"
        echo "$module" >> "$initramfs/etc/modules.list"
    done
done
(cd "$initramfs" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -1 > "$work/initrd.img"

# Stage 2: the OS userland on an ext4 boot volume.
rootfs="$work/rootfs"
install_busybox "$rootfs"
mkdir -p "$rootfs/proc" "$rootfs/sys" "$rootfs/dev" "$rootfs/run" "$rootfs/tmp" "$rootfs/data" "$rootfs/root" \
    "$rootfs/var/run" "$rootfs/etc"
chmod 1777 "$rootfs/tmp"
for program in e2fsck mke2fs tune2fs qemu-ga; do copy_program "$program" "$rootfs"; done
cp /etc/mke2fs.conf "$rootfs/etc/mke2fs.conf"
ln -sf /proc/mounts "$rootfs/etc/mtab"
cp -R "$recipe/rootfs/." "$rootfs/"
echo "root:x:0:0:root:/root:/bin/sh" > "$rootfs/etc/passwd"
echo "root:x:0:" > "$rootfs/etc/group"
echo "snaplab-tiny kernel=$kver size=$size" > "$rootfs/etc/snaplab-release"
rm -f "$rootfs/sbin/init"
ln -s /bin/busybox "$rootfs/sbin/init"

# Optional fill: reproducible content (seeded), so a rebuild gives the same image.
size_bytes="$(numfmt --from=iec "$size")"
if [ "$fill_percent" -gt 0 ] || [ "$fill_small" -gt 0 ]; then
    mkdir -p "$rootfs/fill/small"
    large=$((size_bytes / 100 * fill_percent / (64 * 1048576)))
    index=0
    while [ "$index" -lt "$large" ]; do
        openssl enc -aes-128-ctr -nosalt -pass "pass:snaplab-fill-$index" -in /dev/zero 2>/dev/null \
            | head -c 67108864 > "$rootfs/fill/large-$index"
        index=$((index + 1))
    done
    index=0
    while [ "$index" -lt "$fill_small" ]; do
        directory="$rootfs/fill/small/$((index / 1000))"
        [ -d "$directory" ] || mkdir -p "$directory"
        printf 'snaplab small file %08d\n' "$index" | head -c 4096 > "$directory/$index"
        index=$((index + 1))
    done
    echo "fill: $large large files of 64 MiB, $fill_small small files" > "$rootfs/etc/snaplab-fill"
fi
# shellcheck disable=SC2086
mke2fs -q -F -t ext4 -L boot -E root_owner=0:0 $mkfs_options -d "$rootfs" "$work/boot.raw" "$size"
qemu-img convert -f raw -O qcow2 -o compat=1.1 "$work/boot.raw" "$work/boot.qcow2"

cp "$work/kernel/boot/vmlinuz-$kver" "$work/vmlinuz"
for artifact in vmlinuz initrd.img boot.qcow2; do
    chmod 644 "$work/$artifact"
    mv "$work/$artifact" "$out/$artifact"
done
cat > "$out/build.json" <<JSON
{"recipe": "tiny", "kernel": "$kver", "bootSize": "$size", "mkfsOptions": "$mkfs_options", "fillPercent": $fill_percent, "fillSmallFiles": $fill_small, "cmdline": "console=ttyS0 quiet panic=-1"}
JSON
echo "built $out (kernel $kver, boot volume $size)"
