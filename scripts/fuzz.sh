#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Runs every libFuzzer target in tests/fuzz/ (or those named) for a bounded
# time each, one after the other, built with clang, AddressSanitizer and
# UndefinedBehaviorSanitizer into build-fuzz/ (or $VT_FUZZ_BUILD). Installs
# clang and libFuzzer first when they are missing (apt, as root). Fails on
# any crash, leak, sanitizer report, timeout or memory blow-up, and prints
# executions and coverage per target (docs/testing.md, "Fuzzing").
#
#   scripts/fuzz.sh                          # CI: 20 s each, minutes in all
#   VT_FUZZ_SECONDS=3600 scripts/fuzz.sh     # a long run
#   scripts/fuzz.sh fuzz-qmp-framer          # one target
#
# Environment: VT_FUZZ_SECONDS (time per target, default 20),
# VT_FUZZ_TIMEOUT (seconds one input may take, default 10), VT_FUZZ_RSS_MB
# (memory bound, default 2048), VT_FUZZ_ARGS (more libFuzzer options).
# What a run finds is kept in $VT_FUZZ_BUILD/tests/fuzz/corpus-work/TARGET
# (new inputs; the next run starts from them) and .../artifacts/TARGET/
# (crashes, with the libFuzzer log beside them); the seeds in
# tests/fuzz/corpus/ are only read.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${VT_FUZZ_BUILD:-$top/build-fuzz}
seconds=${VT_FUZZ_SECONDS:-20}
timeout=${VT_FUZZ_TIMEOUT:-10}
rss_mb=${VT_FUZZ_RSS_MB:-2048}

packages=(clang libclang-rt-14-dev llvm-14)
missing=()
for package in "${packages[@]}"; do
        if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
                missing+=("$package")
        fi
done
if [ "${#missing[@]}" -gt 0 ]; then
        if [ "$(id -u)" -ne 0 ]; then
                echo "fuzz: missing packages (${missing[*]}); run as root" >&2
                exit 1
        fi
        echo "fuzz: installing ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
                "${missing[@]}" >/dev/null
fi

# -Dwerror=false: the gcc build is the one held to zero warnings; clang's
# own extra warnings must not stop the fuzzers.
if [ ! -f "$build/build.ninja" ]; then
        CC=clang meson setup "$build" "$top" -Dfuzzing=true -Dwerror=false \
                -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
fi
ninja -C "$build" fuzz >/dev/null

if [ "$#" -gt 0 ]; then
        targets=("$@")
else
        mapfile -t targets < <(cd "$top/tests/fuzz/corpus" && ls -d fuzz-* | sort)
fi

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
symbolizer=$(command -v llvm-symbolizer || command -v llvm-symbolizer-14 || true)
if [ -n "$symbolizer" ]; then
        export ASAN_SYMBOLIZER_PATH=$symbolizer
fi

failed=()
printf '%-24s %12s %9s %7s %7s %10s  %s\n' target executions exec/s cov ft corpus result
for target in "${targets[@]}"; do
        exe=$build/tests/fuzz/$target
        seeds=$top/tests/fuzz/corpus/$target
        work=$build/tests/fuzz/corpus-work/$target
        artifacts=$build/tests/fuzz/artifacts/$target
        log=$artifacts/fuzz.log
        if [ ! -x "$exe" ] || [ ! -d "$seeds" ]; then
                echo "fuzz: no target $target (tests/fuzz/meson.build, tests/fuzz/corpus/)" >&2
                exit 1
        fi
        mkdir -p "$work" "$artifacts"
        status=0
        # shellcheck disable=SC2086 # VT_FUZZ_ARGS is a list of options
        "$exe" -max_total_time="$seconds" -timeout="$timeout" -rss_limit_mb="$rss_mb" \
                -print_final_stats=1 -artifact_prefix="$artifacts/" ${VT_FUZZ_ARGS:-} \
                "$work" "$seeds" >"$log" 2>&1 || status=$?
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
        rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
        last=$(grep -E '^#[0-9]+' "$log" | tail -n 1 || true)
        cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
        ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
        corpus=$(sed -n 's/.* corp: \([^ ]*\).*/\1/p' <<<"$last")
        result=ok
        if [ "$status" -ne 0 ] ||
                grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|SUMMARY: ' "$log"; then
                result="FAILED (exit $status): $log"
                failed+=("$target")
        fi
        printf '%-24s %12s %9s %7s %7s %10s  %s\n' "$target" "${execs:-?}" "${rate:-?}" \
                "${cov:-?}" "${ft:-?}" "${corpus:-?}" "$result"
        if [ "$result" != ok ]; then
                grep -E 'ERROR|runtime error|SUMMARY|Test unit written|^    #[0-9]' "$log" | head -n 40 >&2
        fi
done

if [ "${#failed[@]}" -gt 0 ]; then
        echo "fuzz: ${#failed[@]} of ${#targets[@]} targets failed: ${failed[*]}" >&2
        echo "fuzz: reproduce with: $build/tests/fuzz/TARGET $build/tests/fuzz/artifacts/TARGET/crash-..." >&2
        exit 1
fi
echo "fuzz: ${#targets[@]} targets, ${seconds} s each: no crash, leak or sanitizer report"
