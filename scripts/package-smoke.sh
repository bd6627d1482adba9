#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The smoke check of installed vmtide packages (scripts/package.sh runs it
# after installing them; docs/packaging.md): the binaries answer, the
# packaged configuration passes --check, the units pass systemd-analyze
# verify, the man pages and completion are found, and vmtided starts on a
# throw-away configuration (KSM off, sockets in a temporary directory: it
# touches nothing of the machine's) and answers `vmtide status` before it is
# stopped by its pid. Exits non-zero at the first failure, naming it.
set -euo pipefail

step() { echo "smoke: $*"; }
fail() {
        echo "smoke: FAILED: $*" >&2
        exit 1
}

step "vmtide --version: $(vmtide --version)"
step "vmtided --version: $(vmtided --version)"
step "vmtide-agent --version: $(vmtide-agent --version)"
vmtide-agent --help >/dev/null || fail "vmtide-agent --help"

conf=/etc/vmtide/vmtided.conf
dpkg-query -W -f='${Conffiles}\n' vmtided | grep -q " $conf " ||
        fail "$conf is not a conffile of vmtided"
vmtided --check -c "$conf" || fail "vmtided --check -c $conf"
step "vmtided --check -c $conf: ok (a conffile of vmtided)"

units=(/lib/systemd/system/vmtided.service /lib/systemd/system/vmtide-agent.service)
for u in "${units[@]}"; do [ -f "$u" ] || fail "$u is not installed"; done
if command -v systemd-analyze >/dev/null; then
        systemd-analyze verify "${units[@]}" || fail "systemd-analyze verify ${units[*]}"
        step "systemd-analyze verify: ok (${units[*]##*/})"
else
        step "systemd-analyze not here: units not verified"
fi
[ -f /usr/lib/tmpfiles.d/vmtide.conf ] || fail "tmpfiles.d entry missing"
[ -d /run/vmtide/guests ] || fail "/run/vmtide/guests not made by the tmpfiles.d entry at install"
[ -f /lib/udev/rules.d/60-vmtide-agent.rules ] || fail "the agent's udev rule is missing"

pages=(vmtide vmtided vmtided.conf vmtide-agent)
if dpkg -L vmtide | grep -q '^/usr/share/man/'; then
        for p in "${pages[@]}"; do
                man -w "$p" >/dev/null || fail "man -w $p"
        done
        step "man -w: ${pages[*]} found"
else
        step "no man pages installed (dpkg path-exclude?): not checked"
fi

# bash-completion loads the file by the command's name, vmtided's by its link.
for c in vmtide vmtided; do
        # (_completion_loader returns 124, "retry", when it has loaded one)
        bash -c ". /usr/share/bash-completion/bash_completion; _completion_loader $c; complete -p $c" \
                >/dev/null || fail "bash completion for $c"
done
[ -f /usr/share/zsh/vendor-completions/_vmtide ] || fail "zsh completion missing"
step "bash completion for vmtide and vmtided loads; zsh's _vmtide is installed"

tmp=$(mktemp -d /tmp/vmtide-smoke.XXXXXX)
pid=
stop() {
        [ -z "$pid" ] || kill "$pid" 2>/dev/null || true
        [ -z "$pid" ] || wait "$pid" 2>/dev/null || true
        rm -rf "$tmp"
}
trap stop EXIT
mkdir "$tmp/guests"
cat >"$tmp/vmtided.conf" <<EOF
[daemon]
control-socket = $tmp/vmtided.sock
backend = qmp
[qmp]
dir = $tmp/guests
[ksm]
enabled = false
[recorder]
dir = $tmp/history
EOF
vmtided --check -c "$tmp/vmtided.conf" || fail "vmtided --check of the throw-away configuration"
vmtided -c "$tmp/vmtided.conf" >"$tmp/vmtided.log" 2>&1 &
pid=$!
for _ in $(seq 50); do
        [ -S "$tmp/vmtided.sock" ] && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
done
vmtide --socket "$tmp/vmtided.sock" status >"$tmp/status.txt" 2>&1 || {
        cat "$tmp/status.txt" "$tmp/vmtided.log" >&2
        fail "the installed vmtided did not answer vmtide status"
}
step "the installed vmtided started and answered vmtide status:"
sed 's/^/smoke:   /' "$tmp/status.txt"
kill "$pid"
wait "$pid" || true
pid=
