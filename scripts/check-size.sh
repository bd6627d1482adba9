#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Lists production files over 800 lines and production functions over 80
# lines (docs/hacking.md: "Cut along seams"). A file that must be longer
# says why in a line containing "vt-size-exempt:"; a function likewise in
# the line before it. Exits 1 when anything unexplained is listed.
#
#   scripts/check-size.sh            every production file (not tests/,
#                                    bench/ or build directories)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
status=0
files=$(git ls-files '*.c' '*.h' | grep -vE '^(tests|bench)/')
for f in $files; do
        lines=$(wc -l <"$f")
        if [ "$lines" -gt 800 ] && ! grep -q 'vt-size-exempt:' "$f"; then
                echo "$f: $lines lines (over 800)"
                status=1
        fi
        # A function starts at a line "name(" in column 0 after a line with
        # its return type, and its body runs from the next "{" in column 0
        # to the next "}" in column 0 (the .clang-format layout).
        out=$(awk -v file="$f" '
                /^[a-z_][a-zA-Z0-9_]*\(/ { name = $0; sub(/\(.*/, "", name); exempt = (prev ~ /vt-size-exempt:/) || (prev2 ~ /vt-size-exempt:/) }
                /^\{/ && name != "" { start = NR }
                /^\}/ && start > 0 {
                        len = NR - start - 1
                        if (len > 80 && !exempt) printf "%s: %s() %d lines (over 80)\n", file, name, len
                        start = 0; name = ""
                }
                { prev2 = prev; prev = $0 }' "$f")
        if [ -n "$out" ]; then
                echo "$out"
                status=1
        fi
done
exit "$status"
