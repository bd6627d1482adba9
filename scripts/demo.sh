#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The main job: installs and builds what is missing, boots three 512 MiB
# test guests under QEMU (TCG), starts vmtided on them with a 1200 MiB
# budget, runs a workload in one guest and then in another, and shows with
# `vmtide list` and `vmtide events` memory flowing to the guest that needs
# it (tests/vt-daemon-demo.c; about a minute). KSM is left alone. vmtided's
# flight recorder keeps the run in $VT_DEMO_HISTORY (default
# BUILD/demo-history, the previous run's replaced), kept after the demo,
# which ends by printing the commands that show it (vmtide history, plot,
# replay). Extra arguments go to the demo (--help).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${VT_BUILD_DIR:-$top/build}

"$top/scripts/setup.sh"
export VT_GUEST_DIR="$build/tests/guest"
history=${VT_DEMO_HISTORY:-$build/demo-history}
if [ -z "${VT_DEMO_HISTORY:-}" ]; then
	rm -rf -- "$history"
fi
exec "$build/tests/vt-daemon-demo" --history "$history" "$@"
