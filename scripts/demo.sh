#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The main job: installs and builds what is missing, boots a 512 MiB test
# guest under QEMU (TCG) and shows its balloon size and guest stats live,
# read through vmtide's QMP client, while the guest allocates and frees
# memory and the balloon shrinks and grows. Extra arguments go to the demo
# (--duration S, --no-script).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${VT_BUILD_DIR:-$top/build}

"$top/scripts/setup.sh"
export VT_GUEST_DIR="$build/tests/guest"
exec "$build/tests/vt-guest-demo" "$@"
