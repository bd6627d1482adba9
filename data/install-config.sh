#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# meson install script: installs the example configuration as
# SYSCONFDIR/vmtide/vmtided.conf only when there is none, so that a later
# `meson install` never overwrites an operator's configuration. Honours
# DESTDIR (a package build gets the file, which it ships as a conffile).
#
# Usage: install-config.sh EXAMPLE SYSCONFDIR
set -eu

example=$1
target="${DESTDIR:-}$2/vmtide/vmtided.conf"

if [ -e "$target" ]; then
        echo "vmtide: keeping the existing $target (the example is in share/doc/vmtide)"
        exit 0
fi
install -D -m 0644 "$example" "$target"
echo "vmtide: installed $target"
