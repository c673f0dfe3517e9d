#!/bin/sh
# Builds a Debian 12 guest: a GPT boot disk (qcow2, compat 1.1) with an EFI system partition (systemd-boot at the
# removable-media path, so an empty NVRAM boots it) and an ext4 root with systemd, the cloud kernel,
# qemu-guest-agent (fsfreeze hook on), cloud-init (NoCloud), openssh-server; plus the kernel and initramfs beside
# it, so the same disk also boots directly.
# Usage: build.sh OUT_DIR
# Parameters (environment):
#   SNAPLAB_BOOT_SIZE      size of the whole disk (numfmt --from=iec syntax, default 2G; at least 1G)
#   SNAPLAB_MKFS_OPTIONS   extra mke2fs options for the root filesystem
#   SNAPLAB_DEB_CACHE      where the bootstrapped root (a tarball, by package list) is kept between builds
#   SNAPLAB_FILL_PERCENT   fill the root filesystem to about this percentage with /fill: 64 MiB random files, plus
#   SNAPLAB_FILL_SMALL     this many small files (one block each) in /fill/small: many inodes for fsck to walk
#   SNAPLAB_EXTRA_PACKAGES more Debian packages to install, comma-separated (e.g. postgresql)
# Needs, from Debian: mmdebstrap, e2fsprogs, fdisk (sfdisk), dosfstools, mtools, qemu-utils, and apt sources.
# Runs without mounts or loop devices: the filesystems are written into a plain file at their offsets.
set -eu

out="${1:?usage: build.sh OUT_DIR}"
recipe="$(cd "$(dirname "$0")" && pwd)"
size="${SNAPLAB_BOOT_SIZE:-2G}"
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
need mmdebstrap mmdebstrap
need mke2fs e2fsprogs
need sfdisk fdisk
need mkfs.vfat dosfstools
need mcopy mtools
need qemu-img qemu-utils

size_bytes="$(numfmt --from=iec "$size")"
[ "$size_bytes" -ge 1073741824 ] || { echo "build.sh: a Debian boot disk needs at least 1G (asked: $size)" >&2; exit 2; }

# Stage 1: the root tree, bootstrapped once per package list and apt sources and kept as a tarball.
packages="systemd-sysv,udev,dbus,linux-image-cloud-amd64,initramfs-tools,qemu-guest-agent,e2fsprogs,cloud-init"
packages="$packages,openssh-server,sudo,procps,iproute2,systemd-boot-efi"
extra="${SNAPLAB_EXTRA_PACKAGES:-}"
case "$extra" in *[!a-z0-9.+,-]*) echo "build.sh: '$extra' is not a comma-separated package list" >&2; exit 2 ;; esac
[ -z "$extra" ] || packages="$packages,$extra"
sources=/etc/apt/sources.list.d/debian.sources
[ -f "$sources" ] || sources=/etc/apt/sources.list
hooks='chroot "$1" systemctl enable systemd-networkd; rm -f "$1"/etc/ssh/ssh_host_*'
# The initramfs is built while the kernel package installs, so what it depends on is in place before the
# packages (and part of the tarball's key): the boot markers, the root's type and fstab (initramfs-tools puts
# fsck in, and checks the root with it, only when fstab gives the root a pass number).
setup="mkdir -p \"\$1/etc/initramfs-tools\" && cp -R '$recipe/initramfs/.' \"\$1/etc/initramfs-tools/\""
setup="$setup && cp '$recipe/rootfs/etc/fstab' \"\$1/etc/fstab\""
markers="$( (cd "$recipe/initramfs" && find . -type f | LC_ALL=C sort | xargs cat; cat "$recipe/rootfs/etc/fstab") \
    | sha256sum)"
root_key="$( (echo "bookworm $packages $hooks $markers"; cat "$sources") | sha256sum | cut -c1-16)"
root_tar="$debs/debian-12-root-$root_key.tar"
if [ ! -f "$root_tar" ]; then
    echo "bootstrapping Debian 12 ($packages)"
    mmdebstrap --variant=apt --include="$packages" \
        --setup-hook="$setup" --customize-hook="$hooks" \
        bookworm "$work/root.tar" "$sources"
    mv "$work/root.tar" "$root_tar"
fi
root="$work/root"
mkdir -p "$root"
tar -C "$root" -xpf "$root_tar"
cp -R "$recipe/rootfs/." "$root/"
chmod 755 "$root/etc/qemu/fsfreeze-hook"
kver="$(ls "$root/lib/modules" | head -n 1)"
echo "snaplab-debian-12 kernel=$kver size=$size" > "$root/etc/snaplab-release"

# Optional fill: reproducible content (seeded), so a rebuild gives the same image.
if [ "$fill_percent" -gt 0 ] || [ "$fill_small" -gt 0 ]; then
    mkdir -p "$root/fill/small"
    large=$((size_bytes / 100 * fill_percent / (64 * 1048576)))
    index=0
    while [ "$index" -lt "$large" ]; do
        openssl enc -aes-128-ctr -nosalt -pass "pass:snaplab-fill-$index" -in /dev/zero 2>/dev/null \
            | head -c 67108864 > "$root/fill/large-$index"
        index=$((index + 1))
    done
    index=0
    while [ "$index" -lt "$fill_small" ]; do
        directory="$root/fill/small/$((index / 1000))"
        [ -d "$directory" ] || mkdir -p "$directory"
        printf 'snaplab small file %08d\n' "$index" | head -c 4096 > "$directory/$index"
        index=$((index + 1))
    done
    echo "fill: $large large files of 64 MiB, $fill_small small files" > "$root/etc/snaplab-fill"
fi

# Stage 2: the disk. GPT: an EFI system partition of 128 MiB, then the root (the Linux x86-64 root type).
esp_start=2048
esp_sectors=262144
root_start=$((esp_start + esp_sectors))
disk="$work/boot.raw"
truncate -s "$size_bytes" "$disk"
sfdisk --quiet "$disk" <<EOF
label: gpt
start=$esp_start, size=$esp_sectors, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="esp"
start=$root_start, type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, name="root"
EOF
root_sectors="$(sfdisk --dump "$disk" | sed -n "s/.*start= *$root_start, size= *\([0-9]*\),.*/\1/p")"
[ -n "$root_sectors" ] || { echo "build.sh: cannot read the root partition back from the table" >&2; exit 3; }

# shellcheck disable=SC2086
mke2fs -q -F -t ext4 -L debian-root -E "offset=$((root_start * 512))" $mkfs_options -d "$root" "$disk" \
    "$((root_sectors / 2))k"

cp "$root/boot/vmlinuz-$kver" "$work/vmlinuz"
cp "$root/boot/initrd.img-$kver" "$work/initrd.img"
esp="$work/esp.img"
mkfs.vfat -C -F 32 -n ESP "$esp" $((esp_sectors / 2)) > /dev/null
export MTOOLS_SKIP_CHECK=1
mmd -i "$esp" ::/EFI ::/EFI/BOOT ::/EFI/systemd ::/loader ::/loader/entries
mcopy -i "$esp" "$root/usr/lib/systemd/boot/efi/systemd-bootx64.efi" ::/EFI/BOOT/BOOTX64.EFI
mcopy -i "$esp" "$root/usr/lib/systemd/boot/efi/systemd-bootx64.efi" ::/EFI/systemd/systemd-bootx64.efi
mcopy -i "$esp" "$recipe/esp/loader/loader.conf" ::/loader/loader.conf
mcopy -i "$esp" "$recipe/esp/loader/entries/debian.conf" ::/loader/entries/debian.conf
mcopy -i "$esp" "$work/vmlinuz" ::/vmlinuz
mcopy -i "$esp" "$work/initrd.img" ::/initrd.img
dd if="$esp" of="$disk" bs=512 seek="$esp_start" conv=notrunc,sparse status=none
sfdisk --verify --quiet "$disk" > /dev/null
qemu-img convert -f raw -O qcow2 -o compat=1.1 "$disk" "$work/boot.qcow2"

for artifact in vmlinuz initrd.img boot.qcow2; do
    chmod 644 "$work/$artifact"
    mv "$work/$artifact" "$out/$artifact"
done
cmdline="$(awk '$1 == "options" { $1 = ""; sub(/^ /, ""); print }' "$recipe/esp/loader/entries/debian.conf")"
cat > "$out/build.json" <<JSON
{"recipe": "debian-12", "kernel": "$kver", "bootSize": "$size", "mkfsOptions": "$mkfs_options", "fillPercent": $fill_percent, "fillSmallFiles": $fill_small, "cmdline": "$cmdline", "firmware": "uefi"}
JSON
echo "built $out (Debian 12, kernel $kver, boot disk $size, UEFI or direct boot)"
