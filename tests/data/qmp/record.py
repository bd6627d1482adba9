#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Records raw QMP traffic from a real QEMU for the unit tests.

A developer tool, not run by the tests: it starts qemu-system-x86_64 paused
with no guest (so no guest driver is involved), sends the commands below and
writes each raw reply line, exactly as QEMU sent it, to qemu-7.2/NAME.json.
Replies that need a running guest driver (BALLOON_CHANGE, guest stats with
values) come from the integration tests instead.

Usage: tests/data/qmp/record.py [OUTDIR]
"""
import json, os, socket, subprocess, sys, tempfile

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "qemu-7.2")
os.makedirs(out, exist_ok=True)

def run(extra, steps):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "qmp.sock")
        srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        srv.bind(path)
        srv.listen(1)
        qemu = subprocess.Popen(
            ["qemu-system-x86_64", "-accel", "tcg", "-S", "-nodefaults", "-no-user-config",
             "-display", "none", "-m", "128",
             "-chardev", f"socket,id=qmp,fd={srv.fileno()},server=on,wait=off",
             "-mon", "chardev=qmp,mode=control"] + extra,
            pass_fds=[srv.fileno()])
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.connect(path)
        f = conn.makefile("rwb", buffering=0)
        def line():
            return f.readline()
        save("greeting", line())
        for names, command in steps:
            f.write(command.encode() + b"\r\n")
            for name in names.split():
                save(name, line())
        conn.close()
        qemu.wait(timeout=30)

def save(name, raw):
    json.loads(raw)  # must be valid as recorded
    with open(os.path.join(out, name + ".json"), "wb") as fp:
        fp.write(raw)

run(["-device", "virtio-balloon-pci,id=balloon0"], [
    ("qmp-capabilities", '{"execute":"qmp_capabilities","id":1}'),
    ("query-version", '{"execute":"query-version","id":2}'),
    ("query-balloon", '{"execute":"query-balloon","id":3}'),
    ("command-not-found", '{"execute":"no-such-command","id":4}'),
    ("balloon-bad-argument", '{"execute":"balloon","arguments":{"value":"x"},"id":5}'),
    ("qom-set-polling", '{"execute":"qom-set","arguments":{"path":"/machine/peripheral/balloon0",'
     '"property":"guest-stats-polling-interval","value":2},"id":6}'),
    ("qom-get-guest-stats-no-driver", '{"execute":"qom-get","arguments":{"path":'
     '"/machine/peripheral/balloon0","property":"guest-stats"},"id":7}'),
    ("device-not-found", '{"execute":"qom-get","arguments":{"path":"/machine/peripheral/nope",'
     '"property":"guest-stats"},"id":8}'),
    ("id-string", '{"execute":"query-status","id":"vt-\\u00e9"}'),
    ("event-resume cont", '{"execute":"cont","id":10}'),
    ("event-shutdown quit", '{"execute":"quit","id":11}'),
])
run([], [
    ("qmp-capabilities-no-balloon", '{"execute":"qmp_capabilities"}'),
    ("balloon-device-not-active", '{"execute":"balloon","arguments":{"value":134217728},"id":1}'),
    ("query-balloon-device-not-active", '{"execute":"query-balloon","id":2}'),
    ("event-shutdown-no-balloon quit-no-balloon", '{"execute":"quit","id":3}'),
])
