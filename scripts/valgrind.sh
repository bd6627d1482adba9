#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Memcheck over the unit tests (docs/testing.md, "Valgrind"): every unit
# test, and every vmtide and vmtide-agent process a test starts, run under
# valgrind; fails on any memory error or leak (definite, indirect or
# possible) in any of them. Uses the test command's build: build/ (or
# $VT_BUILD_DIR), configured if missing; never a sanitizer build (valgrind
# and ASan do not mix). Installs valgrind when it is missing (apt, as root).
#
#   scripts/valgrind.sh                       # the unit suite
#   scripts/valgrind.sh test-qmp-framer       # some tests
#   VT_VALGRIND_CHILDREN=no scripts/valgrind.sh   # the test programs alone
#
# Each process writes its own log: $build/meson-logs/valgrind/vg.PID.log.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${VT_BUILD_DIR:-$top/build}
logs=$build/meson-logs/valgrind

if ! command -v valgrind >/dev/null; then
        if [ "$(id -u)" -ne 0 ]; then
                echo "valgrind: valgrind is missing; run as root to install it" >&2
                exit 1
        fi
        echo "valgrind: installing valgrind"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends valgrind >/dev/null
fi

if [ ! -f "$build/build.ninja" ]; then
        meson setup "$build" "$top" -Dwerror=true >/dev/null
fi
if ! out=$(ninja -C "$build" 2>&1); then
        echo "$out" | tail -n 30 >&2
        exit 1
fi

if [ "$#" -gt 0 ]; then
        tests=("$@")
else
        # Only the tests that are programs of ours: the shell-script checks
        # (check-purity, check-man, ...) run nm and grep, nothing of ours.
        mapfile -t tests < <(meson introspect "$build" --tests | python3 -c '
import json, sys
for t in json.load(sys.stdin):
    if "vmtide:unit" in t["suite"] and not t["cmd"][0].endswith(".sh"):
        print(t["name"])')
fi

# GLib: plain malloc for every allocation, pointers cleared on free, so
# that memcheck sees each block (GLib's documented settings for valgrind).
export G_SLICE=always-malloc G_DEBUG=gc-friendly
glib_supp=/usr/share/glib-2.0/valgrind/glib.supp
supp=(--suppressions="$top/tests/valgrind.supp")
if [ -f "$glib_supp" ]; then
        supp+=(--suppressions="$glib_supp")
fi

rm -rf "$logs"
mkdir -p "$logs"
# --trace-children: the CLI and the agent are ours and tests run them (and
# g_test_trap_subprocess() re-runs the test binary): they are checked too.
# System programs (nm, sh, ...) are skipped: not ours. They cost most of
# the time (test-cli starts the CLI 50 times): VT_VALGRIND_CHILDREN=no
# leaves them out.
# shellcheck disable=SC2054 # the commas are valgrind's
wrap=(valgrind --error-exitcode=1 --leak-check=full
        --show-leak-kinds=definite,indirect,possible
        --errors-for-leak-kinds=definite,indirect,possible
        --trace-children="${VT_VALGRIND_CHILDREN:-yes}" --trace-children-skip='/usr/*,/bin/*,/sbin/*'
        --child-silent-after-fork=yes --num-callers=30 "${supp[@]}"
        --log-file="$logs/vg.%p.log")

start=$(date +%s)
status=0
meson test -C "$build" --no-rebuild --print-errorlogs --timeout-multiplier 10 \
        --wrap="$(printf '%q ' "${wrap[@]}")" "${tests[@]}" || status=$?
seconds=$(($(date +%s) - start))

# A child's error shows only in its log (its exit status may be what the
# test expects of it): every log is read.
bad=()
n_logs=0
for log in "$logs"/vg.*.log; do
        n_logs=$((n_logs + 1))
        # A process that exec'd a skipped program wrote no summary.
        summary=$(grep -h 'ERROR SUMMARY' "$log" || true)
        if [ -n "$summary" ] && [[ $summary != *"ERROR SUMMARY: 0 errors"* ]]; then
                bad+=("$log")
        fi
done
if [ "${#bad[@]}" -gt 0 ]; then
        for log in "${bad[@]}"; do
                echo "== $log" >&2
                grep -A40 -E 'Invalid|uninitialised|lost in loss record|Mismatched|overlap' "$log" |
                        head -n 80 >&2 || true
        done
        echo "valgrind: errors in ${#bad[@]} of $n_logs processes (logs in $logs)" >&2
        exit 1
fi
if [ "$status" -ne 0 ]; then
        echo "valgrind: a test failed under valgrind (logs in $logs)" >&2
        exit "$status"
fi
echo "valgrind: ${#tests[@]} unit tests, $n_logs processes, no error or leak; ${seconds} s"
