#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Builds the integration-test guest: a Debian kernel (vmlinuz) and an
# initramfs of busybox-static, the virtio modules, vt-workload and, if given,
# vmtide-agent.
#
# The kernel package is fetched with `apt-get download` (never installed, /boot
# is not touched) and kept with the few files taken from it in the cache dir,
# ${VT_GUEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vmtide}, so that rebuilding
# the initramfs needs neither the network nor a new download.
#
# Usage: build-guest.sh --output DIR --init FILE --workload FILE
#                       [--agent FILE] [--kernel-package PKG]
# The kernel package defaults to $VT_GUEST_KERNEL_PACKAGE, else to the package
# that linux-image-amd64 depends on.

set -eu

MODULES="virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_balloon virtio_console virtio_mem"
# For compressed swap in the guest, in load order: zram needs zsmalloc (its
# default algorithm, lzo-rle, is built into the Debian kernel).
MODULES="$MODULES zsmalloc zram"

prog=build-guest.sh
die() {
        echo "$prog: error: $*" >&2
        exit 1
}
note() {
        echo "$prog: $*" >&2
}

output=
init=
workload=
agent=
kernel_package=${VT_GUEST_KERNEL_PACKAGE:-}
while [ $# -gt 0 ]; do
        case $1 in
        --output) output=$2; shift 2 ;;
        --init) init=$2; shift 2 ;;
        --workload) workload=$2; shift 2 ;;
        --agent) agent=$2; shift 2 ;;
        --kernel-package) kernel_package=$2; shift 2 ;;
        -h | --help) sed -n '3,17p' "$0"; exit 0 ;;
        *) die "unknown argument '$1'" ;;
        esac
done
[ -n "$output" ] || die "--output is required"
[ -f "$init" ] || die "--init: no such file '$init'"
[ -f "$workload" ] || die "--workload: no such file '$workload'"
[ -z "$agent" ] || [ -f "$agent" ] || die "--agent: no such file '$agent'"

for tool in apt-get apt-cache dpkg-deb cpio gzip; do
        command -v "$tool" >/dev/null 2>&1 || die "'$tool' not found"
done

busybox=
for candidate in /bin/busybox /usr/bin/busybox; do
        if [ -x "$candidate" ]; then
                busybox=$candidate
                break
        fi
done
[ -n "$busybox" ] || die "busybox not found: apt-get install busybox-static"
# A dynamically linked busybox would not run in the initramfs.
if LC_ALL=C ldd "$busybox" >/dev/null 2>&1; then
        die "$busybox is dynamically linked: apt-get install busybox-static"
fi

cache=${VT_GUEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vmtide}
mkdir -p "$cache"

# Resolve the kernel package name.
if [ -z "$kernel_package" ]; then
        kernel_package=$(LC_ALL=C apt-cache depends linux-image-amd64 2>/dev/null |
                sed -n 's/^ *Depends: \(linux-image-[^ ]*\)$/\1/p' | head -n 1) || true
        if [ -z "$kernel_package" ]; then
                # Offline with no apt lists: use what is already cached.
                cached=$(find "$cache" -maxdepth 1 -name 'linux-image-*_amd64.deb' | sort -V | tail -n 1)
                [ -n "$cached" ] ||
                        die "cannot resolve linux-image-amd64: the apt package lists are missing." \
                                "Run 'apt-get update' (as root) and build again," \
                                "or set VT_GUEST_KERNEL_PACKAGE."
                kernel_package=$(basename "$cached" | sed 's/_.*//')
                note "apt lists unavailable, using cached '$kernel_package'"
        fi
fi

# Fetch the .deb once.
deb=$(find "$cache" -maxdepth 1 -name "${kernel_package}_*_amd64.deb" | sort -V | tail -n 1)
if [ -z "$deb" ]; then
        if ! LC_ALL=C apt-cache show "$kernel_package" >/dev/null 2>&1; then
                die "apt knows no package '$kernel_package'. Run 'apt-get update' (as root)" \
                        "and build again, or set VT_GUEST_KERNEL_PACKAGE."
        fi
        note "downloading '$kernel_package' into $cache (once)"
        dl=$(mktemp -d "$cache/download.XXXXXX")
        # apt drops privileges to _apt, who may not write the cache dir; the
        # download is verified against the signed lists either way.
        if ! (cd "$dl" && apt-get download -q -o APT::Sandbox::User=root "$kernel_package" >&2); then
                rm -rf "$dl"
                die "apt-get download '$kernel_package' failed (try 'apt-get update')"
        fi
        for f in "$dl"/*.deb; do
                mv "$f" "$cache/"
                deb=$cache/$(basename "$f")
        done
        rmdir "$dl"
fi
[ -f "$deb" ] || die "no .deb for '$kernel_package' in $cache"

# Extract vmlinuz and the modules once per .deb.
kdir=${deb%.deb}
# .complete holds the module list it was extracted for: a new module re-extracts.
if [ ! -f "$kdir/.complete" ] || [ "$(cat "$kdir/.complete")" != "$MODULES" ]; then
        note "extracting $(basename "$deb")"
        rm -rf "$kdir"
        tmp=$(mktemp -d "$cache/extract.XXXXXX")
        dpkg-deb --fsys-tarfile "$deb" |
                tar -x -C "$tmp" --wildcards --no-anchored \
                        './boot/vmlinuz-*' './lib/modules/*/modules.builtin' \
                        './lib/modules/*/kernel/drivers/virtio/*' \
                        './lib/modules/*/kernel/drivers/char/virtio_console.ko*' \
                        './lib/modules/*/kernel/mm/zsmalloc.ko*' \
                        './lib/modules/*/kernel/drivers/block/zram/*'
        mkdir -p "$tmp/out/modules"
        cp "$tmp"/boot/vmlinuz-* "$tmp/out/vmlinuz"
        for m in $MODULES; do
                ko=$(find "$tmp/lib/modules" -name "$m.ko" -o -name "$m.ko.*" | head -n 1)
                if [ -z "$ko" ]; then
                        if grep -q "/$m.ko\$" "$tmp"/lib/modules/*/modules.builtin 2>/dev/null; then
                                note "module '$m' is built into the kernel"
                        else
                                note "warning: module '$m' not found, skipped"
                        fi
                        continue
                fi
                case $ko in
                *.ko) cp "$ko" "$tmp/out/modules/$m.ko" ;;
                *.ko.xz) xz -dc "$ko" >"$tmp/out/modules/$m.ko" ;;
                *.ko.gz) gzip -dc "$ko" >"$tmp/out/modules/$m.ko" ;;
                *.ko.zst) zstd -qdc "$ko" >"$tmp/out/modules/$m.ko" ;;
                *) die "unknown module compression: $ko" ;;
                esac
        done
        mv "$tmp/out" "$kdir"
        rm -rf "$tmp"
        echo "$MODULES" >"$kdir/.complete"
fi

# Assemble the initramfs.
mkdir -p "$output"
root=$(mktemp -d "${TMPDIR:-/tmp}/vt-guest-root.XXXXXX")
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/bin" "$root/sbin" "$root/usr/bin" "$root/usr/sbin" "$root/proc" \
        "$root/sys" "$root/dev" "$root/tmp" "$root/lib/modules"
cp "$busybox" "$root/bin/busybox"
for applet in $("$busybox" --list-full); do
        [ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
done
cp "$init" "$root/init"
chmod 0755 "$root/init"
cp "$workload" "$root/bin/vt-workload"
chmod 0755 "$root/bin/vt-workload"
if [ -n "$agent" ]; then
        if LC_ALL=C ldd "$agent" >/dev/null 2>&1; then
                note "warning: agent '$agent' is dynamically linked; it will not run in the guest"
        fi
        cp "$agent" "$root/bin/vmtide-agent"
        chmod 0755 "$root/bin/vmtide-agent"
fi
loaded=
for m in $MODULES; do
        if [ -f "$kdir/modules/$m.ko" ]; then
                cp "$kdir/modules/$m.ko" "$root/lib/modules/"
                loaded="$loaded $m"
        fi
done
echo "$loaded" >"$root/lib/modules/order"

(cd "$root" && find . -mindepth 1 | LC_ALL=C sort |
        cpio --quiet -o -H newc --owner 0:0 | gzip -6 -n) >"$output/initramfs.img.tmp"
cp "$kdir/vmlinuz" "$output/vmlinuz.tmp"
mv "$output/initramfs.img.tmp" "$output/initramfs.img"
mv "$output/vmlinuz.tmp" "$output/vmlinuz"
note "guest in $output: kernel $(basename "$kdir"), modules:$loaded"
