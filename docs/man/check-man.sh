#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The man pages render with man-db (`man -l`, no warning from groff), and
# none lags behind the code: every command of vmtide's dispatch table
# (cli/cli-main.c) has its entry in vmtide(1), and every group and key of
# vmtided's configuration tables (host/daemon-config-keys.c) its entry in
# vmtided.conf(5). Run by meson test (docs/meson.build) as check-man.
#
# Usage: check-man.sh CLI_MAIN_C CONFIG_KEYS_C PAGE...
set -eu

cli_main=$1
config_keys=$2
shift 2
status=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for page in "$@"; do
        name=$(basename "$page")
        if ! MANWIDTH=80 LC_ALL=C.UTF-8 man --warnings -l "$page" >"$tmp/$name.txt" 2>"$tmp/$name.err"; then
                echo "not ok: man -l $name failed"
                status=1
        fi
        if [ -s "$tmp/$name.err" ]; then
                echo "not ok: man -l $name warns:"
                cat "$tmp/$name.err"
                status=1
        fi
        if ! grep -q "^NAME" "$tmp/$name.txt"; then
                echo "not ok: $name renders no NAME section"
                status=1
        fi
        echo "ok: $name renders ($(wc -l <"$tmp/$name.txt") lines)"
done

# The dispatch table's entries: `    {"status", "...", ...}` between
# `cli_commands[] = {` and `};`, and `help`, which cli-main.c handles itself.
commands=$(sed -n '/cli_commands\[\] = {/,/^};/p' "$cli_main" | sed -n 's/^    {"\([a-z-]*\)".*/\1/p')
for command in $commands help; do
        if ! grep -q "^       $command\( \|$\)" "$tmp/vmtide.1.txt"; then
                echo "not ok: vmtide(1) has no entry for the command '$command'"
                status=1
        fi
done

# Groups: `{"daemon", daemon_keys}` and `{"guest:NAME", guest_keys}`;
# keys: `    {"tick-interval-ms", KEY_MS, ...}`.
groups=$(grep -o '{"[a-z:A-Z]*", [a-z]*_keys}' "$config_keys" | sed 's/{"\([^"]*\)".*/\1/')
for group in $groups; do
        if ! grep -q "^\[$group\]" "$tmp/vmtided.conf.5.txt"; then
                echo "not ok: vmtided.conf(5) has no section for the group '[$group]'"
                status=1
        fi
done
keys=$(sed -n 's/^    {"\([a-z0-9-]*\)", KEY_.*/\1/p' "$config_keys" | sort -u)
for key in $keys; do
        if ! grep -q "^       $key = " "$tmp/vmtided.conf.5.txt"; then
                echo "not ok: vmtided.conf(5) has no entry for the key '$key'"
                status=1
        fi
done
echo "checked $(echo $commands | wc -w) commands, $(echo $groups | wc -w) groups, $(echo $keys | wc -w) keys"
exit $status
