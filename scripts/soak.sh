#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The soak (docs/testing.md, "Soak"): installs and builds what is missing,
# then runs vmtided for 30 minutes (--minutes N to change) under three
# 512 MiB test guests looping a workload and a fourth, hostile guest (an
# agent streaming garbage and valid lines, a QMP peer flooding events and
# hanging up) and control-socket clients that idle or send garbage. It
# records vmtided's RSS, open descriptors and CPU every 5 s to a CSV file
# (build/soak.csv, or --csv PATH) and exits 1 when any of them grew after
# warm-up, the daemon went away, or the CLI was refused. Not part of CI:
# it takes tens of minutes. Extra arguments go to bench/soak-daemon
# (--help lists the thresholds).
#
#   scripts/soak.sh                  # 30 minutes
#   scripts/soak.sh --minutes 12     # shorter
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${VT_BUILD_DIR:-$top/build}

VT_BUILD_DIR=$build "$top/scripts/setup.sh"
export VT_GUEST_DIR="$build/tests/guest"
exec "$build/bench/soak-daemon" --csv "$build/soak.csv" "$@"
