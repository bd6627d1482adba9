#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Builds vmtide's Debian packages from a clean checkout, checks them with
# lintian, installs them on this machine, runs a smoke check of the
# installed binaries and units, and purges them again (docs/packaging.md).
# On Debian 12, as root. CI runs it last (.ci/run): it installs and removes
# vmtided, vmtide and vmtide-agent system-wide, and no other step may see
# installed copies.
#
#   scripts/package.sh              HEAD (git archive), the packages in
#                                   $VT_PACKAGE_OUT (default build-deb/)
#   scripts/package.sh --worktree   the working tree as it is (tracked and
#                                   untracked files, not ignored ones)
#   scripts/package.sh --no-install build and lintian only
#
# The test suites are not run here (DEB_BUILD_OPTIONS=nocheck, and the
# package build configures -Dtests=false): CI runs them before, with
# scripts/test.sh. Lintian errors fail the run; its warnings and notes are
# printed. Files the packages would own that exist before (a `meson
# install --prefix=/usr`, an operator's /etc/vmtide/vmtided.conf) are moved
# aside for the check and put back afterwards; the build dependencies stay
# installed, like scripts/setup.sh's.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=${VT_PACKAGE_OUT:-$top/build-deb}
mode=head
install=1
for arg in "$@"; do
        case $arg in
        --worktree) mode=worktree ;;
        --no-install) install=0 ;;
        *)
                echo "package: unknown argument $arg (--worktree, --no-install)" >&2
                exit 2
                ;;
        esac
done

packages=(vmtided vmtide vmtide-agent)
build_deps=(
        build-essential dpkg-dev debhelper fakeroot lintian
        # debian/control's Build-Depends (dpkg-checkbuilddeps checks them below)
        meson ninja-build pkg-config libglib2.0-dev libjson-c-dev libvirt-dev
        libvirt-glib-1.0-dev libsoup-3.0-dev scdoc bash-completion
        # the smoke check
        man-db
)

say() { echo "package: $*"; }
die() {
        echo "package: $*" >&2
        exit 1
}

[ "$(id -u)" -eq 0 ] || die "run as root (it installs build dependencies and the packages)"

missing=()
for p in "${build_deps[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
                missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
        say "installing ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
                "${missing[@]}" >/dev/null
fi

work=$(mktemp -d /tmp/vmtide-package.XXXXXX)
backup=$work/backup
cleanup() { rm -rf "$work"; }
trap cleanup EXIT

version=$(dpkg-parsechangelog -l "$top/debian/changelog" -S Version)
src=$work/vmtide-$version
mkdir -p "$src"
if [ "$mode" = head ]; then
        say "source: git archive HEAD ($(git -C "$top" rev-parse --short HEAD))"
        git -C "$top" archive HEAD | tar -x -C "$src"
else
        say "source: the working tree"
        (cd "$top" && git ls-files -z -co --exclude-standard | xargs -0 cp --parents -a -t "$src")
fi

(cd "$src" && dpkg-checkbuilddeps) || die "unmet build dependencies (debian/control)"

say "dpkg-buildpackage -us -uc -b (log: $out/build.log)"
mkdir -p "$out"
rm -f "$out"/*.deb "$out"/*.changes "$out"/*.buildinfo
if ! (cd "$src" && DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" \
        dpkg-buildpackage -us -uc -b) >"$out/build.log" 2>&1; then
        tail -40 "$out/build.log" >&2
        die "dpkg-buildpackage failed (the whole log: $out/build.log)"
fi
mv "$work"/*.deb "$work"/*.changes "$work"/*.buildinfo "$out"/
changes=$(ls "$out"/vmtide_"${version}"_*.changes)

for p in "${packages[@]}"; do
        deb=$(ls "$out/${p}_${version}"_*.deb)
        say "$(basename "$deb"): Depends: $(dpkg-deb -f "$deb" Depends)"
done
agent_deb=$(ls "$out/vmtide-agent_${version}"_*.deb)
if dpkg-deb -f "$agent_deb" Depends | grep -Eq 'libglib|libvirt|libsoup'; then
        die "vmtide-agent depends on GLib, libvirt or libsoup: a guest cannot install it"
fi

say "lintian $(basename "$changes")"
lintian_out=$out/lintian.txt
lintian_rc=0
lintian --fail-on error --display-info "$changes" >"$lintian_out" 2>&1 || lintian_rc=$?
cat "$lintian_out"
say "lintian: $(grep -c '^E: ' "$lintian_out" || true) errors," \
        "$(grep -c '^W: ' "$lintian_out" || true) warnings," \
        "$(grep -c '^I: ' "$lintian_out" || true) notes"
[ "$lintian_rc" -eq 0 ] || die "lintian found errors (above; $lintian_out)"

[ "$install" -eq 1 ] || exit 0

# Leave the machine as found: none of the packages may be installed before,
# files they would own are moved aside and put back after the purge, and the
# directories the install makes are removed again if they are new and empty.
for p in "${packages[@]}"; do
        if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'installed'; then
                die "$p is installed on this machine; the check installs and purges it (remove it first)"
        fi
done
debs=()
for p in "${packages[@]}"; do debs+=("$(ls "$out/${p}_${version}"_*.deb)"); done
owned=$(for d in "${debs[@]}"; do dpkg-deb --fsys-tarfile "$d" | tar -t; done |
        sed -n 's|^\./|/|p' | grep -v '/$' | sort -u)
moved=()
for f in $owned; do
        if [ -e "$f" ] || [ -L "$f" ]; then
                mkdir -p "$backup$(dirname "$f")"
                mv "$f" "$backup$f"
                moved+=("$f")
        fi
done
[ "${#moved[@]}" -eq 0 ] || say "moved aside until the purge: ${moved[*]}"
new_dirs=()
for d in /etc/vmtide /run/vmtide/guests /run/vmtide /var/lib/vmtide; do
        [ -e "$d" ] || new_dirs+=("$d")
done

purge() {
        say "purging ${packages[*]}"
        DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq "${packages[@]}" >/dev/null || true
        for d in "${new_dirs[@]}"; do rmdir "$d" 2>/dev/null || true; done
        for f in "${moved[@]}"; do
                mkdir -p "$(dirname "$f")"
                mv "$backup$f" "$f"
        done
        rm -rf "$work"
}
trap purge EXIT

say "installing ${debs[*]##*/}"
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${debs[@]}" \
        >"$out/install.log" 2>&1 || {
        cat "$out/install.log" >&2
        die "apt-get install of the packages failed"
}

"$top/scripts/package-smoke.sh"
say "smoke check passed"
