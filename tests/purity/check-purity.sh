#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The purity rule, checked by the build instead of hoped for: a pure
# library (policies, tuners, planners, cost models, parsers) may call
# allocation, formatting, string and arithmetic functions only. Every
# symbol a library leaves undefined, less those it defines itself, must
# match a line of the allow-list (or be defined by a pure library of the
# list); anything else (the clock, files,
# sockets, processes, logging) fails, with the symbol and the library.
#
#   check-purity.sh NM ALLOW-LIST LIBRARY.a...
#   check-purity.sh --expect-refusal SYMBOL NM ALLOW-LIST LIBRARY.a
#       the check's own test: succeeds only when it refuses the library
#       and names SYMBOL
set -euo pipefail

if [ "$1" = "--expect-refusal" ]; then
        symbol=$2
        shift 2
        if out=$("$0" "$@"); then
                echo "check-purity: the check accepted a library that calls $symbol"
                exit 1
        fi
        printf '%s\n' "$out"
        if ! printf '%s\n' "$out" | grep -qx "  $symbol"; then
                echo "check-purity: the check failed without naming $symbol"
                exit 1
        fi
        exit 0
fi

nm=$1
allow=$2
shift 2

# A pure library may call another pure library of the list (balloon/ uses
# common/'s size formatter): what any of them defines is allowed.
defined=$(for lib in "$@"; do "$nm" --defined-only "$lib" 2>/dev/null; done |
        awk 'NF == 3 { print $3 }' | sort -u)

status=0
for lib in "$@"; do
        undefined=$("$nm" -u "$lib" | awk 'NF == 2 { print $2 }' | sort -u)
        impure=$(comm -23 <(printf '%s\n' "$undefined") <(printf '%s\n' "$defined") |
                grep -vxEf <(grep -vE '^(#|$)' "$allow") || true)
        if [ -n "$impure" ]; then
                echo "impure: $(basename "$lib") calls what a pure library must not:"
                printf '  %s\n' $impure
                status=1
        else
                echo "pure: $(basename "$lib") ($(printf '%s\n' "$undefined" | grep -c .) outside symbols, all allowed)"
        fi
done
exit "$status"
