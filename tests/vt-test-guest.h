/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Launcher of the integration-test guest: QEMU under TCG with the balloon and vmtide's ports. */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * VtTestGuestOptions - How to start a test guest. Zeroed fields take defaults.
 * @name: guest name, for QEMU's -name and the temp dir name; short, [A-Za-z0-9_-];
 *        NULL means "guest"
 * @memory_bytes: guest RAM, a multiple of 1 MiB; 0 means 512 MiB
 * @no_balloon: omit the virtio-balloon device (to test DeviceNotActive)
 * @boot_timeout_us: guard timeout for the workload's "ready" (from QEMU's
 *        start: in libvirt mode, once virDomainCreateXML() returned); 0 means 60 s
 * @kernel_args: more kernel command line, or NULL; `vt.agent=ARG` passes
 *        ARG to vmtide-agent (e.g. `vt.agent=--sample-ms=200`)
 * @libvirt_uri: NULL: spawn QEMU directly. Else run the guest as a transient
 *        libvirt domain named @name through this URI (qemu:///system only,
 *        e.g. vt_test_libvirt_get_uri()); @name must then be unique on the
 *        host, e.g. "vt-lv-<pid>-<n>"
 * @libvirt_metadata: with @libvirt_uri: raw XML elements (each in its own
 *        namespace) to put in the domain's <metadata>, or NULL
 * @incoming: direct mode only: start the same machine as the receiving end
 *        of a migration (`-incoming unix:<dir>/incoming.sock`, see
 *        vt_test_guest_get_incoming_uri()); nothing boots, so the start
 *        does not wait for "ready": it returns with QEMU listening and the
 *        workload socket connected, and the workload answers once a
 *        migration brought the guest in. Implies @migrates
 * @migrates: direct mode only: the guest is the source or the destination
 *        of a migration. Its RAM is then 8 KiB over @memory_bytes, so that
 *        QEMU 7.2 keeps a moving TCG guest's memory intact (see
 *        TCG_RAM_PAD_KIB in vt-test-guest.c); QMP's sizes show the 8 KiB
 * @virtio_mem_bytes: give the guest a virtio-mem device of this maximum, a
 *        multiple of 2 MiB, beside its @memory_bytes of boot memory, 2 MiB
 *        blocks, requested size 0. Direct mode: `virtio-mem-pci,id=vm0` with
 *        `-m BOOT,maxmem=BOOT+THIS,slots=1`; libvirt mode: a `<memory
 *        model='virtio-mem'>` device (alias virtiomem0), `<maxMemory
 *        slots='1'>` and a NUMA cell of the boot memory. The kernel onlines
 *        what is plugged as movable (`memhp_default_state=online_movable`)
 *        so that it can be unplugged again. 0: none
 */
typedef struct {
        const char *name;
        guint64 memory_bytes;
        gboolean no_balloon;
        gint64 boot_timeout_us;
        const char *kernel_args;
        const char *libvirt_uri;
        const char *libvirt_metadata;
        gboolean incoming;
        gboolean migrates;
        guint64 virtio_mem_bytes;
} VtTestGuestOptions;

/**
 * VtTestGuest - A running QEMU guest (spawned, or a libvirt domain), its temp dir and sockets
 * (opaque).
 */
typedef struct _VtTestGuest VtTestGuest;

gboolean vt_test_guest_available(char **ret_reason);

VtTestGuest *vt_test_guest_start(const VtTestGuestOptions *options, GError **error);

const char *vt_test_guest_get_name(VtTestGuest *guest);
const char *vt_test_guest_get_dir(VtTestGuest *guest);
const char *vt_test_guest_get_qmp_path(VtTestGuest *guest);
const char *vt_test_guest_get_monitor_path(VtTestGuest *guest);
const char *vt_test_guest_get_agent_path(VtTestGuest *guest);
const char *vt_test_guest_get_console_path(VtTestGuest *guest);
const char *vt_test_guest_get_libvirt_name(VtTestGuest *guest);
const char *vt_test_guest_get_libvirt_uri(VtTestGuest *guest);
GPid vt_test_guest_get_pid(VtTestGuest *guest);
guint64 vt_test_guest_get_mem_total(VtTestGuest *guest);
gint64 vt_test_guest_get_ready_us(VtTestGuest *guest);

char *vt_test_guest_workload(VtTestGuest *guest, const char *command, gint64 timeout_us,
                             GError **error);

char *vt_test_guest_read_console(VtTestGuest *guest);

const char *vt_test_guest_get_incoming_uri(VtTestGuest *guest);
gboolean vt_test_guest_wait_exit(VtTestGuest *guest, gint64 timeout_us);

void vt_test_guest_kill(VtTestGuest *guest);
void vt_test_guest_free(VtTestGuest *guest);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(VtTestGuest, vt_test_guest_free)

G_END_DECLS
