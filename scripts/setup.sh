#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Installs what vmtide needs on Debian 12 (apt, as root; only what is
# missing), then configures and builds it into build/ (or $VT_BUILD_DIR).
# The first build also makes the test guest, which downloads the Debian
# kernel package once into ~/.cache/vmtide.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${VT_BUILD_DIR:-$top/build}

packages=(
        # build
        gcc libc6-dev meson ninja-build pkg-config
        libglib2.0-dev libjson-c-dev libvirt-dev libvirt-glib-1.0-dev
        # vmtided's metrics endpoint (host/metrics/, docs/metrics.md)
        libsoup-3.0-dev
        # the man pages (docs/man/*.scd) and their check; bash completion's directory
        scdoc man-db bash-completion
        # the test guest and the integration tests
        qemu-system-x86 busybox-static cpio gzip xz-utils zstd kmod ca-certificates
        # the libvirt integration tests run a real libvirtd (started by the
        # test harness when none runs; no systemd needed)
        libvirt-daemon-system
        # the fault-injection suite jumps vmtided's wall clock (tests/test-fault-daemon.c)
        faketime
        # the memcheck pass over the unit tests (scripts/valgrind.sh, CI)
        valgrind
        # vmtide plot draws with gnuplot (docs/planning.md)
        gnuplot-nox
        # vmtide top is tested in a real terminal (tests/test-cli-top.c)
        tmux
)

missing=()
for package in "${packages[@]}"; do
        if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
                missing+=("$package")
        fi
done

# The guest builder fetches the kernel with apt-get download: it needs lists.
need_lists=0
if ! apt-cache show linux-image-amd64 >/dev/null 2>&1; then
        need_lists=1
fi

if [ "${#missing[@]}" -gt 0 ] || [ "$need_lists" -eq 1 ]; then
        if [ "$(id -u)" -ne 0 ]; then
                echo "setup: missing packages (${missing[*]:-none}) or apt lists; run as root" >&2
                exit 1
        fi
        echo "setup: apt-get update"
        apt-get update -qq
        if [ "${#missing[@]}" -gt 0 ]; then
                echo "setup: installing ${missing[*]}"
                DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
                        "${missing[@]}" >/dev/null
        fi
fi

if [ ! -f "$build/build.ninja" ]; then
        meson setup "$build" "$top" -Dwerror=true "$@"
elif [ "$#" -gt 0 ]; then
        meson configure "$build" "$@"
fi
ninja -C "$build"
