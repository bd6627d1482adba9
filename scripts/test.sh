#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Installs and builds what is missing, then runs the whole test suite: unit
# tests, then the integration tests that boot real QEMU guests (one at a
# time). With VT_TEST_REQUIRE_ALL=1 (the default here) a test that would
# skip for want of QEMU or the guest image fails instead. Extra arguments
# are meson options for the build, e.g. -Db_sanitize=address,undefined.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${VT_BUILD_DIR:-$top/build}

"$top/scripts/setup.sh" "$@"
export VT_TEST_REQUIRE_ALL=${VT_TEST_REQUIRE_ALL:-1}

status=0
meson test -C "$build" --print-errorlogs --suite unit --suite integration || status=1

# One closing line that counts every test case (the TAP subtests); a test
# program that aborted ("Bail out!") counts as a failure.
summary=$({ grep -hE '^(ok|not ok) |^Bail out!' "$build/meson-logs/testlog.txt" || true; } | awk -v status="$status" '
        /^Bail out!/ { failed++; next }
        / # SKIP/    { skipped++; next }
        /^ok /       { passed++; next }
        /^not ok/    { failed++ }
        END {
                if (status != 0 && failed == 0) failed = 1
                printf "%d passed, %d failed, %d skipped", passed, failed, skipped
        }')
echo
echo "$summary"
case "$summary" in
*" 0 failed, 0 skipped") ;;
*) status=1 ;;
esac
exit "$status"
