/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What vmtided reads from a running libvirt domain's XML: parsing it, table by table. */
#include "host/libvirt/libvirt-domain.h"

#include <string.h>

#include "host/libvirt/libvirt-metadata.h"

#define KIB (G_GUINT64_CONSTANT(1) << 10)
#define MIB (G_GUINT64_CONSTANT(1) << 20)
#define GIB (G_GUINT64_CONSTANT(1) << 30)

/* A small domain to vary: `DOMAIN_WITH("<devices>...</devices>")`. */
#define UUID           "58978caf-e00a-45f0-9b97-46896f0a29ea"
#define NAME_UUID      "<name>vt-dom-a</name><uuid>" UUID "</uuid>"
#define MEMORY         "<memory unit='KiB'>524288</memory>"
#define DOMAIN_WITH(x) "<domain type='qemu' id='1'>" NAME_UUID MEMORY x "</domain>"
#define DEVICES(x)     DOMAIN_WITH("<devices>" x "</devices>")
#define MEMORY_IS(x)   "<domain type='qemu'>" NAME_UUID x "</domain>"
#define BASE           .name = "vt-dom-a", .uuid = UUID, .max_bytes = 512 * MIB

#define AGENT_PATH "/var/lib/libvirt/qemu/channel/target/domain-1-vt-dom-a/org.vmtide.agent.0"
#define CHANNEL(type, source, target_type, target_name)                                            \
        "<channel type='" type "'>" source "<target type='" target_type "' name='" target_name     \
        "' state='connected'/><alias name='channel0'/></channel>"
#define BIND(path)    "<source mode='bind' path='" path "'/>"
#define AGENT(source) CHANNEL("unix", source, "virtio", VT_LIBVIRT_AGENT_CHANNEL)
#define GOOD_AGENT    AGENT(BIND(AGENT_PATH))

/* Trimmed from `virsh dumpxml` of a running domain (libvirt 9.0, issue #6). */
#define REAL_EXAMPLE                                                                               \
        "<domain type='qemu' id='1'>\n"                                                            \
        "  <name>vt-try</name>\n"                                                                  \
        "  <uuid>58978caf-e00a-45f0-9b97-46896f0a29ea</uuid>\n"                                    \
        "  <metadata><vmtide:policy xmlns:vmtide=\"https://vmtide.org/xmlns/policy/1\">"           \
        "<vmtide:shares>200</vmtide:shares></vmtide:policy></metadata>\n"                          \
        "  <memory unit='KiB'>524288</memory>\n"                                                   \
        "  <currentMemory unit='KiB'>524288</currentMemory>\n"                                     \
        "  <vcpu placement='static'>1</vcpu>\n"                                                    \
        "  <devices>\n"                                                                            \
        "    <emulator>/usr/bin/qemu-system-x86_64</emulator>\n"                                   \
        "    <controller type='virtio-serial' index='0'><alias "                                   \
        "name='virtio-serial0'/></controller>\n"                                                   \
        "    <channel type='unix'>\n"                                                              \
        "      <source mode='bind' "                                                               \
        "path='/var/lib/libvirt/qemu/channel/target/domain-1-vt-try/org.vmtide.agent.0'/>\n"       \
        "      <target type='virtio' name='org.vmtide.agent.0' state='connected'/>\n"              \
        "      <alias name='channel0'/>\n"                                                         \
        "    </channel>\n"                                                                         \
        "    <channel type='unix'>\n"                                                              \
        "      <source mode='bind' path='/tmp/lvtry/workload.sock'/>\n"                            \
        "      <target type='virtio' name='org.vmtide.test.workload' state='connected'/>\n"        \
        "      <alias name='channel1'/>\n"                                                         \
        "    </channel>\n"                                                                         \
        "    <memballoon model='virtio'>\n"                                                        \
        "      <stats period='2'/>\n"                                                              \
        "      <alias name='balloon0'/>\n"                                                         \
        "    </memballoon>\n"                                                                      \
        "  </devices>\n"                                                                           \
        "  <seclabel type='static' model='dac' relabel='no'><label>+0:+0</label></seclabel>\n"     \
        "</domain>\n"

/*
 * The whole of `virsh dumpxml` of a running domain on this machine (libvirt
 * 9.0): a transient domain with an agent channel whose path libvirt chose,
 * a pty channel and freePageReporting.
 */
#define REAL_FULL                                                                                  \
        "<domain type='qemu' id='2'>\n"                                                            \
        "  <name>vt-dom-parse</name>\n"                                                            \
        "  <uuid>e5b7d570-a4a1-48e0-b9b0-0122637a0d40</uuid>\n"                                    \
        "  <metadata>\n"                                                                           \
        "    <vmtide:policy xmlns:vmtide=\"https://vmtide.org/xmlns/policy/1\">\n"                 \
        "      <vmtide:shares>200</vmtide:shares>\n"                                               \
        "    </vmtide:policy>\n"                                                                   \
        "  </metadata>\n"                                                                          \
        "  <memory unit='KiB'>131072</memory>\n"                                                   \
        "  <currentMemory unit='KiB'>131072</currentMemory>\n"                                     \
        "  <vcpu placement='static'>1</vcpu>\n"                                                    \
        "  <resource>\n"                                                                           \
        "    <partition>/machine</partition>\n"                                                    \
        "  </resource>\n"                                                                          \
        "  <os>\n"                                                                                 \
        "    <type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type>\n"                             \
        "    <boot dev='hd'/>\n"                                                                   \
        "  </os>\n"                                                                                \
        "  <cpu mode='custom' match='exact' check='full'>\n"                                       \
        "    <model fallback='forbid'>qemu64</model>\n"                                            \
        "    <feature policy='require' name='hypervisor'/>\n"                                      \
        "    <feature policy='require' name='lahf_lm'/>\n"                                         \
        "  </cpu>\n"                                                                               \
        "  <clock offset='utc'/>\n"                                                                \
        "  <on_poweroff>destroy</on_poweroff>\n"                                                   \
        "  <on_reboot>restart</on_reboot>\n"                                                       \
        "  <on_crash>destroy</on_crash>\n"                                                         \
        "  <devices>\n"                                                                            \
        "    <emulator>/usr/bin/qemu-system-x86_64</emulator>\n"                                   \
        "    <controller type='usb' index='0' model='piix3-uhci'>\n"                               \
        "      <alias name='usb'/>\n"                                                              \
        "      <address type='pci' domain='0x0000' bus='0x00' slot='0x01' function='0x2'/>\n"      \
        "    </controller>\n"                                                                      \
        "    <controller type='pci' index='0' model='pci-root'>\n"                                 \
        "      <alias name='pci.0'/>\n"                                                            \
        "    </controller>\n"                                                                      \
        "    <controller type='virtio-serial' index='0'>\n"                                        \
        "      <alias name='virtio-serial0'/>\n"                                                   \
        "      <address type='pci' domain='0x0000' bus='0x00' slot='0x02' function='0x0'/>\n"      \
        "    </controller>\n"                                                                      \
        "    <channel type='unix'>\n"                                                              \
        "      <source mode='bind' "                                                               \
        "path='/var/lib/libvirt/qemu/channel/target/domain-2-vt-dom-parse/org.vmtide.agent.0'/>\n" \
        "      <target type='virtio' name='org.vmtide.agent.0' state='disconnected'/>\n"           \
        "      <alias name='channel0'/>\n"                                                         \
        "      <address type='virtio-serial' controller='0' bus='0' port='1'/>\n"                  \
        "    </channel>\n"                                                                         \
        "    <channel type='pty'>\n"                                                               \
        "      <source path='/dev/pts/0'/>\n"                                                      \
        "      <target type='virtio' name='org.vmtide.agent.1' state='disconnected'/>\n"           \
        "      <alias name='channel1'/>\n"                                                         \
        "      <address type='virtio-serial' controller='0' bus='0' port='2'/>\n"                  \
        "    </channel>\n"                                                                         \
        "    <input type='mouse' bus='ps2'>\n"                                                     \
        "      <alias name='input0'/>\n"                                                           \
        "    </input>\n"                                                                           \
        "    <input type='keyboard' bus='ps2'>\n"                                                  \
        "      <alias name='input1'/>\n"                                                           \
        "    </input>\n"                                                                           \
        "    <audio id='1' type='none'/>\n"                                                        \
        "    <memballoon model='virtio' freePageReporting='on'>\n"                                 \
        "      <stats period='5'/>\n"                                                              \
        "      <alias name='balloon0'/>\n"                                                         \
        "      <address type='pci' domain='0x0000' bus='0x00' slot='0x03' function='0x0'/>\n"      \
        "    </memballoon>\n"                                                                      \
        "  </devices>\n"                                                                           \
        "  <seclabel type='dynamic' model='dac' relabel='yes'>\n"                                  \
        "    <label>+64055:+64055</label>\n"                                                       \
        "    <imagelabel>+64055:+64055</imagelabel>\n"                                             \
        "  </seclabel>\n"                                                                          \
        "</domain>\n"

typedef struct {
        const char *id;
        const char *xml;
        const char *error; /* a substring of the error; NULL: parses */
        /* expected on success */
        const char *name;
        const char *uuid;
        guint64 max_bytes;
        guint64 current_bytes;
        gboolean has_balloon;
        guint stats_period_s;
        gboolean free_page_reporting;
        const char *agent_path;
        const char *agent_problem; /* a substring; NULL: no problem */
} Case;

static const Case cases[] = {
    /* real XML */
    {.id = "real-example",
     .xml = REAL_EXAMPLE,
     .name = "vt-try",
     .uuid = UUID,
     .max_bytes = 512 * MIB,
     .current_bytes = 512 * MIB,
     .has_balloon = TRUE,
     .stats_period_s = 2,
     .agent_path = "/var/lib/libvirt/qemu/channel/target/domain-1-vt-try/org.vmtide.agent.0"},
    {.id = "real-full",
     .xml = REAL_FULL,
     .name = "vt-dom-parse",
     .uuid = "e5b7d570-a4a1-48e0-b9b0-0122637a0d40",
     .max_bytes = 128 * MIB,
     .current_bytes = 128 * MIB,
     .has_balloon = TRUE,
     .stats_period_s = 5,
     .free_page_reporting = TRUE,
     .agent_path = "/var/lib/libvirt/qemu/channel/target/domain-2-vt-dom-parse/org.vmtide.agent.0"},
    {.id = "xml-declaration-comments-namespaces",
     .xml = "<?xml version='1.0' encoding='UTF-8'?>\n<!-- a comment -->\n"
            "<domain type='kvm' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>"
            "<!-- <name>not</name> -->" NAME_UUID MEMORY
            "<qemu:commandline><qemu:arg value='-name'/></qemu:commandline></domain>",
     BASE},
    {.id = "name-with-entities",
     .xml = "<domain><name>a&amp;b &lt;c&gt;</name><uuid>u</uuid>" MEMORY "</domain>",
     .name = "a&b <c>",
     .uuid = "u",
     .max_bytes = 512 * MIB},

    /* the balloon */
    {.id = "balloon-none", .xml = DEVICES("<memballoon model='none'/>"), BASE},
    {.id = "balloon-none-stats-ignored",
     .xml = DEVICES("<memballoon model='none'><stats period='5'/></memballoon>"),
     BASE},
    {.id = "balloon-absent", .xml = DEVICES("<emulator>/usr/bin/qemu</emulator>"), BASE},
    {.id = "no-devices", .xml = DOMAIN_WITH(""), BASE},
    {.id = "balloon-stats-absent",
     .xml = DEVICES("<memballoon model='virtio'><alias name='balloon0'/></memballoon>"),
     BASE,
     .has_balloon = TRUE},
    {.id = "balloon-stats-no-period",
     .xml = DEVICES("<memballoon model='virtio'><stats/></memballoon>"),
     BASE,
     .has_balloon = TRUE},
    {.id = "balloon-stats-zero",
     .xml = DEVICES("<memballoon model='virtio'><stats period='0'/></memballoon>"),
     BASE,
     .has_balloon = TRUE},
    {.id = "balloon-non-transitional",
     .xml = DEVICES("<memballoon model='virtio-non-transitional' autodeflate='on'>"
                    "<stats period='10'/></memballoon>"),
     BASE,
     .has_balloon = TRUE,
     .stats_period_s = 10},
    {.id = "balloon-xen", .xml = DEVICES("<memballoon model='xen'/>"), BASE, .has_balloon = TRUE},
    {.id = "balloon-free-page-reporting",
     .xml = DEVICES("<memballoon model='virtio' freePageReporting='on'/>"),
     BASE,
     .has_balloon = TRUE,
     .free_page_reporting = TRUE},
    {.id = "balloon-free-page-reporting-off",
     .xml = DEVICES("<memballoon model='virtio' freePageReporting='off'/>"),
     BASE,
     .has_balloon = TRUE},
    {.id = "balloon-second-ignored",
     .xml = DEVICES("<memballoon model='virtio'><stats period='3'/></memballoon>"
                    "<memballoon model='none' freePageReporting='bad'><stats period='x'/>"
                    "</memballoon>"),
     BASE,
     .has_balloon = TRUE,
     .stats_period_s = 3},
    {.id = "balloon-outside-devices",
     .xml = DOMAIN_WITH("<memballoon model='virtio'/><devices/>"),
     BASE},
    {.id = "balloon-free-page-reporting-bad",
     .xml = DEVICES("<memballoon model='virtio' freePageReporting='yes'/>"),
     .error = "freePageReporting='yes'"},
    {.id = "balloon-stats-not-a-number",
     .xml = DEVICES("<memballoon model='virtio'><stats period='2s'/></memballoon>"),
     .error = "period='2s'"},
    {.id = "balloon-stats-negative",
     .xml = DEVICES("<memballoon model='virtio'><stats period='-1'/></memballoon>"),
     .error = "period='-1'"},
    {.id = "balloon-stats-too-long",
     .xml = DEVICES("<memballoon model='virtio'><stats period='99999999999999999999'/>"
                    "</memballoon>"),
     .error = "not a number of seconds"},

    /* the agent channel */
    {.id = "agent-usable", .xml = DEVICES(GOOD_AGENT), BASE, .agent_path = AGENT_PATH},
    {.id = "agent-absent",
     .xml = DEVICES(CHANNEL("unix", BIND("/tmp/w.sock"), "virtio", "org.vmtide.test.workload")),
     BASE},
    {.id = "agent-mode-connect",
     .xml = DEVICES(AGENT("<source mode='connect' path='/tmp/a.sock'/>")),
     BASE,
     .agent_problem = "mode is 'connect'"},
    {.id = "agent-mode-unknown",
     .xml = DEVICES(AGENT("<source mode='listen' path='/tmp/a.sock'/>")),
     BASE,
     .agent_problem = "unknown source mode 'listen'"},
    {.id = "agent-mode-absent-is-bind",
     .xml = DEVICES(AGENT("<source path='/tmp/a.sock'/>")),
     BASE,
     .agent_path = "/tmp/a.sock"},
    {.id = "agent-type-pty",
     .xml =
         DEVICES(CHANNEL("pty", "<source path='/dev/pts/3'/>", "virtio", VT_LIBVIRT_AGENT_CHANNEL)),
     BASE,
     .agent_problem = "type is 'pty', not 'unix'"},
    {.id = "agent-type-absent",
     .xml = DEVICES("<channel>" BIND(
         AGENT_PATH) "<target type='virtio' name='" VT_LIBVIRT_AGENT_CHANNEL "'/></channel>"),
     BASE,
     .agent_problem = "no type; vmtided needs type='unix'"},
    {.id = "agent-target-type-absent",
     .xml = DEVICES("<channel type='unix'>" BIND(
         AGENT_PATH) "<target name='" VT_LIBVIRT_AGENT_CHANNEL "'/></channel>"),
     BASE,
     .agent_problem = "target has no type"},
    {.id = "agent-target-xen",
     .xml = DEVICES(CHANNEL("unix", BIND(AGENT_PATH), "xen", VT_LIBVIRT_AGENT_CHANNEL)),
     BASE,
     .agent_problem = "target type is 'xen'"},
    {.id = "agent-wrong-target-name",
     .xml = DEVICES(CHANNEL("unix", BIND(AGENT_PATH), "virtio", "org.vmtide.agent.1")),
     BASE},
    {.id = "agent-target-name-prefix",
     .xml = DEVICES(CHANNEL("unix", BIND(AGENT_PATH), "virtio", "org.vmtide.agent.0.x")),
     BASE},
    {.id = "agent-no-path",
     .xml = DEVICES(AGENT("<source mode='bind'/>")),
     BASE,
     .agent_problem = "no source path"},
    {.id = "agent-empty-path",
     .xml = DEVICES(AGENT("<source mode='bind' path=''/>")),
     BASE,
     .agent_problem = "no source path"},
    {.id = "agent-no-source", .xml = DEVICES(AGENT("")), BASE, .agent_problem = "no source path"},
    {.id = "agent-relative-path",
     .xml = DEVICES(AGENT(BIND("agent.sock"))),
     BASE,
     .agent_problem = "'agent.sock' is not absolute"},
    {.id = "agent-two-usable-first-wins",
     .xml = DEVICES(GOOD_AGENT AGENT(BIND("/tmp/second.sock"))),
     BASE,
     .agent_path = AGENT_PATH},
    {.id = "agent-unusable-then-usable",
     .xml = DEVICES(AGENT(BIND("")) AGENT(BIND("/tmp/second.sock"))),
     BASE,
     .agent_path = "/tmp/second.sock"},
    {.id = "agent-two-unusable-first-problem",
     .xml = DEVICES(AGENT("<source mode='connect' path='/tmp/a.sock'/>") AGENT(BIND(""))),
     BASE,
     .agent_problem = "connect"},
    {.id = "agent-channel-outside-devices", .xml = DOMAIN_WITH(GOOD_AGENT "<devices/>"), BASE},
    {.id = "agent-nested-in-channel-ignored",
     .xml =
         DEVICES("<channel type='unix'><source mode='connect' path='/tmp/c.sock'/>"
                 "<x>" BIND(AGENT_PATH) "</x><target type='virtio' name='" VT_LIBVIRT_AGENT_CHANNEL
                                        "'/></channel>"),
     BASE,
     .agent_problem = "connect"},

    /* <metadata> is skipped, whatever it holds */
    {.id = "metadata-decoys",
     .xml =
         "<domain type='qemu'>"
         "<metadata><evil:x xmlns:evil='https://example.org/evil'>"
         "<name>evil</name><uuid>evil</uuid><memory unit='b'>1</memory>"
         "<devices>" AGENT(BIND(
             "/tmp/evil.sock")) "<memballoon model='virtio'/></devices>"
                                "</evil:x><name>evil2</name><memory>not a "
                                "number</memory><currentMemory>1</currentMemory>"
                                "<devices>" AGENT(BIND(
                                    "/tmp/evil2.sock")) "</devices>"
                                                        "<channel type='unix'>" BIND(
                                                            "/tmp/evil3.sock") "<target "
                                                                               "type='virtio' "
                                                                               "name="
                                                                               "'" VT_LIBVIRT_AGENT_CHANNEL
                                                                               "'/></channel>"
                                                                               "</"
                                                                               "metadata>" NAME_UUID
                                                                                   MEMORY
                                                                               "<metadata><name>"
                                                                               "after</"
                                                                               "name><memory>x</"
                                                                               "memory></metadata>"
                                                                               "<devices><"
                                                                               "memballoon "
                                                                               "model='none'/></"
                                                                               "devices></domain>",
     BASE},

    /* units */
    {.id = "unit-default-kib",
     .xml = MEMORY_IS("<memory>1024</memory><currentMemory>512</currentMemory>"),
     .name = "vt-dom-a",
     .uuid = UUID,
     .max_bytes = 1024 * KIB,
     .current_bytes = 512 * KIB},
    {.id = "unit-empty-is-kib",
     .xml = MEMORY_IS("<memory unit=''>1024</memory>"),
     .name = "vt-dom-a",
     .uuid = UUID,
     .max_bytes = 1024 * KIB},
    {.id = "unit-mib",
     .xml = MEMORY_IS(
         "<memory unit='MiB'>2048</memory><currentMemory unit='MiB'>1536</currentMemory>"),
     .name = "vt-dom-a",
     .uuid = UUID,
     .max_bytes = 2 * GIB,
     .current_bytes = 1536 * MIB},
    {.id = "unit-gib",
     .xml = MEMORY_IS("<memory unit='GiB'>4</memory><currentMemory unit='G'>3</currentMemory>"),
     .name = "vt-dom-a",
     .uuid = UUID,
     .max_bytes = 4 * GIB,
     .current_bytes = 3 * GIB},
    {.id = "unit-bytes",
     .xml = MEMORY_IS(
         "<memory unit='bytes'>1000000</memory><currentMemory unit='b'>999</currentMemory>"),
     .name = "vt-dom-a",
     .uuid = UUID,
     .max_bytes = 1000000,
     .current_bytes = 999},
    {.id = "unit-decimal",
     .xml = MEMORY_IS("<memory unit='MB'>1</memory><currentMemory unit='KB'>1</currentMemory>"),
     .name = "vt-dom-a",
     .uuid = UUID,
     .max_bytes = 1000000,
     .current_bytes = 1000},
    {.id = "unit-any-case",
     .xml = MEMORY_IS("<memory unit='gib'>1</memory><currentMemory unit='k'>1</currentMemory>"),
     .name = "vt-dom-a",
     .uuid = UUID,
     .max_bytes = GIB,
     .current_bytes = KIB},
    {.id = "unit-largest",
     .xml = MEMORY_IS("<memory unit='EiB'>15</memory>"),
     .name = "vt-dom-a",
     .uuid = UUID,
     .max_bytes = 15 * (G_GUINT64_CONSTANT(1) << 60)},
    {.id = "unit-overflow",
     .xml = MEMORY_IS("<memory unit='EiB'>16</memory>"),
     .error = "fits in 64 bits"},
    {.id = "unit-overflow-kib",
     .xml = MEMORY_IS("<memory>18014398509481984</memory>"),
     .error = "fits in 64 bits"},
    {.id = "unit-overflow-digits",
     .xml = MEMORY_IS("<memory unit='b'>99999999999999999999999</memory>"),
     .error = "fits in 64 bits"},
    {.id = "unit-unknown",
     .xml = MEMORY_IS("<memory unit='furlong'>1</memory>"),
     .error = "unknown unit 'furlong'"},
    {.id = "unit-unknown-suffix",
     .xml = MEMORY_IS("<memory unit='KiBs'>1</memory>"),
     .error = "unknown unit 'KiBs'"},
    {.id = "memory-negative",
     .xml = MEMORY_IS("<memory>-1</memory>"),
     .error = "<memory>: '-1' is not a size"},
    {.id = "memory-blanks", .xml = MEMORY_IS("<memory> 1024 </memory>"), .error = "not a size"},
    {.id = "memory-hex", .xml = MEMORY_IS("<memory>0x100</memory>"), .error = "not a size"},
    {.id = "memory-empty", .xml = MEMORY_IS("<memory unit='KiB'/>"), .error = "not a size"},
    {.id = "memory-zero", .xml = MEMORY_IS("<memory>0</memory>"), .error = "<memory> is 0"},
    {.id = "current-memory-bad",
     .xml = DOMAIN_WITH("<currentMemory unit='KiB'>lots</currentMemory>"),
     .error = "<currentMemory>: 'lots'"},

    /* required elements, root, well-formedness */
    {.id = "missing-name",
     .xml = "<domain><uuid>" UUID "</uuid>" MEMORY "</domain>",
     .error = "no <name>"},
    {.id = "missing-uuid",
     .xml = "<domain><name>a</name>" MEMORY "</domain>",
     .error = "no <uuid>"},
    {.id = "missing-memory",
     .xml = "<domain>" NAME_UUID "<currentMemory>1024</currentMemory></domain>",
     .error = "no <memory>"},
    {.id = "missing-all", .xml = "<domain/>", .error = "no <name>"},
    {.id = "memory-devices-fill-memory",
     .xml = DEVICES("<memory model='virtio-mem'><target><size unit='MiB'>512</size></target>"
                    "</memory>"),
     .error = "leave nothing of <memory>"},
    {.id = "memory-less-devices",
     .xml = DEVICES("<memory model='dimm'><target><size unit='MiB'>128</size></target>"
                    "</memory>"),
     .name = "vt-dom-a",
     .uuid = UUID,
     .max_bytes = 384 * MIB},
    {.id = "name-empty",
     .xml = "<domain><name/><uuid>u</uuid>" MEMORY "</domain>",
     .error = "<name> is empty"},
    {.id = "name-twice", .xml = DOMAIN_WITH("<name>other</name>"), .error = "more than one <name>"},
    {.id = "memory-twice",
     .xml = DOMAIN_WITH("<memory unit='GiB'>1</memory>"),
     .error = "more than one <memory>"},
    {.id = "not-domain-root",
     .xml = "<network><name>default</name></network>",
     .error = "expected <domain>"},
    {.id = "policy-root",
     .xml = "<vmtide:policy xmlns:vmtide='" VT_LIBVIRT_METADATA_URI "'/>",
     .error = "expected <domain>"},
    {.id = "two-roots", .xml = DOMAIN_WITH("") DOMAIN_WITH(""), .error = ""},
    {.id = "malformed-unclosed", .xml = "<domain><name>x</name>", .error = ""},
    {.id = "malformed-mismatched", .xml = "<domain><name>x</uuid></domain>", .error = ""},
    {.id = "malformed-entity", .xml = "<domain><name>&bogus;</name></domain>", .error = ""},
    {.id = "malformed-garbage", .xml = "\x01\x02 lots", .error = ""},
    {.id = "malformed-not-utf8",
     .xml = "<domain><name>\xff\xfe</name></domain>",
     .error = "not valid UTF-8"},
    {.id = "text-only", .xml = "domain", .error = ""},
    {.id = "empty", .xml = "", .error = ""},
    {.id = "blank", .xml = " \n\t", .error = ""},
};

static void
test_parse(gconstpointer data)
{
        const Case *c = data;
        g_autoptr(GError) error = NULL;
        VtLibvirtDomainInfo info = {.max_bytes = 12345};
        gboolean ok = vt_libvirt_domain_parse(c->xml, &info, &error);

        if (c->error != NULL) {
                g_assert_false(ok);
                g_assert_error(error, G_MARKUP_ERROR, error->code);
                g_test_message("%s", error->message);
                g_assert_nonnull(strstr(error->message, c->error));
                /* Nothing written on failure. */
                g_assert_cmpuint(info.max_bytes, ==, 12345);
                g_assert_null(info.name);
                return;
        }
        g_assert_no_error(error);
        g_assert_true(ok);
        g_assert_cmpstr(info.name, ==, c->name);
        g_assert_cmpstr(info.uuid, ==, c->uuid);
        g_assert_cmpuint(info.max_bytes, ==, c->max_bytes);
        g_assert_cmpuint(info.current_bytes, ==, c->current_bytes);
        g_assert_cmpint(info.has_balloon, ==, c->has_balloon);
        g_assert_cmpuint(info.stats_period_s, ==, c->stats_period_s);
        g_assert_cmpint(info.free_page_reporting, ==, c->free_page_reporting);
        g_assert_cmpstr(info.agent_path, ==, c->agent_path);
        if (c->agent_problem == NULL) {
                g_assert_null(info.agent_problem);
        } else {
                g_test_message("agent problem: %s", info.agent_problem);
                g_assert_nonnull(info.agent_problem);
                g_assert_nonnull(strstr(info.agent_problem, c->agent_problem));
        }
        vt_libvirt_domain_info_clear(&info);
}

/* libvirt's units, one by one (vt_libvirt_parse_scaled() is libvirt-metadata's). */
typedef struct {
        const char *value;
        const char *unit;
        guint64 bytes;     /* expected when @error is NULL */
        const char *error; /* a substring */
} ScaledCase;

static const ScaledCase scaled_cases[] = {
    {"1", NULL, KIB, NULL},
    {"1", "", KIB, NULL},
    {"7", "b", 7, NULL},
    {"7", "byte", 7, NULL},
    {"7", "Bytes", 7, NULL},
    {"1", "k", KIB, NULL},
    {"1", "K", KIB, NULL},
    {"1", "KiB", KIB, NULL},
    {"1", "KB", 1000, NULL},
    {"1", "kb", 1000, NULL},
    {"1", "M", MIB, NULL},
    {"1", "MiB", MIB, NULL},
    {"1", "MB", 1000000, NULL},
    {"1", "G", GIB, NULL},
    {"1", "GiB", GIB, NULL},
    {"1", "GB", 1000000000, NULL},
    {"1", "T", GIB * 1024, NULL},
    {"1", "TiB", GIB * 1024, NULL},
    {"1", "TB", G_GUINT64_CONSTANT(1000000000000), NULL},
    {"1", "PiB", G_GUINT64_CONSTANT(1) << 50, NULL},
    {"1", "EB", G_GUINT64_CONSTANT(1000000000000000000), NULL},
    {"18446744073709551615", "b", G_MAXUINT64, NULL},
    {"0", "GiB", 0, NULL},
    {"18446744073709551616", "b", 0, "fits in 64 bits"},
    {"18446744073709552", "KB", 0, "fits in 64 bits"},
    {"16", "EiB", 0, "fits in 64 bits"},
    {"1", "ZiB", 0, "unknown unit"},
    {"1", "KiBB", 0, "unknown unit"},
    {"1", "iB", 0, "unknown unit"},
    {"1", "KI", 0, "unknown unit"},
    {"", "KiB", 0, "not a size"},
    {"+1", "KiB", 0, "not a size"},
    {"1.5", "GiB", 0, "not a size"},
    {"1 ", "KiB", 0, "not a size"},
};

static void
test_scaled(gconstpointer data)
{
        const ScaledCase *c = data;
        g_autoptr(GError) error = NULL;
        guint64 bytes = 12345;
        gboolean ok = vt_libvirt_parse_scaled(c->value, c->unit, &bytes, &error);

        if (c->error != NULL) {
                g_assert_false(ok);
                g_assert_error(error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT);
                g_test_message("%s", error->message);
                g_assert_nonnull(strstr(error->message, c->error));
                g_assert_cmpuint(bytes, ==, 12345);
                return;
        }
        g_assert_no_error(error);
        g_assert_true(ok);
        g_assert_cmpuint(bytes, ==, c->bytes);
}

/* Clearing a zeroed info, a filled one, twice, or NULL is safe. */
static void
test_clear(void)
{
        VtLibvirtDomainInfo zeroed = {0};
        g_autoptr(GError) error = NULL;
        g_auto(VtLibvirtDomainInfo) info = {0};

        vt_libvirt_domain_info_clear(&zeroed);
        vt_libvirt_domain_info_clear(&zeroed);
        g_assert_null(zeroed.name);
        vt_libvirt_domain_info_clear(NULL);

        g_assert_true(vt_libvirt_domain_parse(REAL_EXAMPLE, &info, &error));
        g_assert_no_error(error);
        g_assert_nonnull(info.agent_path);
        vt_libvirt_domain_info_clear(&info);
        g_assert_null(info.name);
        g_assert_null(info.uuid);
        g_assert_null(info.agent_path);
        g_assert_cmpuint(info.max_bytes, ==, 0);
        g_assert_false(info.has_balloon);
        vt_libvirt_domain_info_clear(&info);

        /* A problem is freed as well (g_auto clears at the end; valgrind/ASan see it). */
        g_assert_true(vt_libvirt_domain_parse(DEVICES(AGENT(BIND(""))), &info, &error));
        g_assert_no_error(error);
        g_assert_nonnull(info.agent_problem);
}

/*
 * The virtio-mem device (host/libvirt/libvirt-memdev.c). As libvirt 9.0
 * writes it in a running domain's XML.
 */
#define VMEM_TARGET(size, block, requested, current)                                               \
        "<target><size unit='KiB'>" size "</size><node>0</node><block unit='KiB'>" block           \
        "</block><requested unit='KiB'>" requested "</requested><current unit='KiB'>" current      \
        "</current></target>"
#define VMEM_WITH(target, alias)                                                                   \
        "<memory model='virtio-mem'>" target "<alias name='" alias "'/>"                           \
        "<address type='pci' domain='0x0000' bus='0x00' slot='0x05' function='0x0'/></memory>"
#define VMEM_GOOD VMEM_WITH(VMEM_TARGET("786432", "2048", "262144", "131072"), "virtiomem0")
#define VMEM_HEAD_OF_GOOD                                                                          \
        "<memory model='virtio-mem'><target><size unit='KiB'>786432</size><node>0</node>"          \
        "<block unit='KiB'>2048</block><requested unit='KiB'>"
#define VMEM_TAIL_OF_GOOD                                                                          \
        "</requested><current unit='KiB'>131072</current></target><alias name='virtiomem0'>"       \
        "</alias><address type='pci' domain='0x0000' bus='0x00' slot='0x05' "                      \
        "function='0x0'></address></memory>"

typedef struct {
        const char *id;
        const char *xml; /* the <devices> content */
        gboolean present;
        const char *alias;
        guint64 size_bytes;
        guint64 block_bytes;
        guint64 requested_bytes;
        guint64 current_bytes;
        const char *problem;   /* a substring; NULL: none */
        const char *others;    /* exactly; NULL: none */
        const char *update;    /* how the XML for requested = size starts; NULL: not checked */
        guint64 devices_bytes; /* the memory devices' sizes; 0: not checked */
} MemdevCase;

#define GOOD_FIGURES                                                                               \
        .present = TRUE, .alias = "virtiomem0", .size_bytes = 768 * MIB, .block_bytes = 2 * MIB,   \
        .requested_bytes = 256 * MIB, .current_bytes = 128 * MIB

static const MemdevCase memdev_cases[] = {
    {.id = "none", .xml = "<memballoon model='virtio'/>"},
    {.id = "good",
     .xml = VMEM_GOOD,
     GOOD_FIGURES,
     .devices_bytes = 768 * MIB,
     .update = VMEM_HEAD_OF_GOOD "786432" VMEM_TAIL_OF_GOOD},
    {.id = "with-balloon-and-channel",
     .xml = "<memballoon model='virtio'><stats period='2'/></memballoon>" VMEM_GOOD GOOD_AGENT,
     GOOD_FIGURES},
    {.id = "units-mixed",
     .xml = VMEM_WITH("<target><size unit='GiB'>1</size><block unit='MiB'>2</block>"
                      "<requested unit='b'>0</requested><current>2048</current></target>",
                      "vm0"),
     .present = TRUE,
     .alias = "vm0",
     .size_bytes = GIB,
     .block_bytes = 2 * MIB,
     .current_bytes = 2 * MIB},
    {.id = "requested-written-in-kib",
     .xml = VMEM_WITH("<target><size unit='MiB'>64</size><block unit='MiB'>2</block>"
                      "<requested unit='MiB'>4</requested></target>",
                      "vm0"),
     .present = TRUE,
     .alias = "vm0",
     .size_bytes = 64 * MIB,
     .block_bytes = 2 * MIB,
     .requested_bytes = 4 * MIB,
     .update = "<memory model='virtio-mem'><target><size unit='MiB'>64</size><block "
               "unit='MiB'>2</block><requested unit='KiB'>65536</requested></target><alias "
               "name='vm0'></alias><address type='pci' domain='0x0000' bus='0x00' slot='0x05' "
               "function='0x0'></address></memory>"},
    {.id = "current-absent",
     .xml = VMEM_WITH("<target><size>4096</size><block>2048</block><requested>0</requested>"
                      "</target>",
                      "a"),
     .present = TRUE,
     .alias = "a",
     .size_bytes = 4 * MIB,
     .block_bytes = 2 * MIB},
    {.id = "entities-kept-escaped",
     .xml = "<memory model='virtio-mem'><source><nodemask>0&amp;1</nodemask></source>"
            "<target><size>4096</size><block>2048</block><requested>2048</requested></target>"
            "<alias name='a&apos;b'/></memory>",
     .present = TRUE,
     .alias = "a'b",
     .size_bytes = 4 * MIB,
     .block_bytes = 2 * MIB,
     .requested_bytes = 2 * MIB,
     .update = "<memory model='virtio-mem'><source><nodemask>0&amp;1</nodemask></source>"
               "<target><size>4096</size><block>2048</block><requested unit='KiB'>"},
    {.id = "other-models-skipped-but-counted",
     .xml = "<memory model='dimm'><target><size unit='KiB'>524288</size><node>0</node>"
            "</target><alias name='dimm0'/></memory>"
            "<memory model='virtio-pmem' access='shared'><source><path>/tmp/x</path></source>"
            "<target><size>0</size></target></memory>" VMEM_GOOD,
     GOOD_FIGURES,
     .devices_bytes = 1280 * MIB},
    {.id = "dimm-only",
     .xml = "<memory model='dimm'><target><size unit='GiB'>1</size></target></memory>",
     .devices_bytes = GIB},
    {.id = "other-device-size-unreadable",
     .xml =
         "<memory model='dimm'><target><size unit='furlong'>1</size></target></memory>" VMEM_GOOD,
     .problem = "boot memory is not known"},
    {.id = "second-named",
     .xml = VMEM_GOOD VMEM_WITH(VMEM_TARGET("4096", "2048", "0", "0"), "virtiomem1"),
     GOOD_FIGURES,
     .devices_bytes = 772 * MIB,
     .others = "'virtiomem1'"},
    {.id = "third-without-alias",
     .xml = VMEM_GOOD VMEM_WITH(VMEM_TARGET("4096", "2048", "0", "0"),
                                "virtiomem1") "<memory model='virtio-mem'><target/></memory>",
     GOOD_FIGURES,
     .others = "'virtiomem1', one without an alias"},
    {.id = "first-broken-second-not-driven",
     .xml = VMEM_WITH(VMEM_TARGET("786432", "3000", "0", "0"), "virtiomem0") VMEM_GOOD,
     .problem = "not a power of two",
     .others = "'virtiomem0'"},
    {.id = "many-named-bounded",
     .xml = VMEM_GOOD VMEM_GOOD VMEM_GOOD VMEM_GOOD VMEM_GOOD VMEM_GOOD VMEM_GOOD VMEM_GOOD
         VMEM_GOOD VMEM_GOOD VMEM_GOOD,
     GOOD_FIGURES,
     .others = "'virtiomem0', 'virtiomem0', 'virtiomem0', 'virtiomem0', 'virtiomem0', "
               "'virtiomem0', 'virtiomem0', 'virtiomem0' and 2 more"},
    {.id = "outside-devices-ignored",
     .xml = "</devices><metadata>" VMEM_GOOD "</metadata><devices>"},

    /* broken: not driven, the domain still parses */
    {.id = "size-missing",
     .xml = VMEM_WITH("<target><block>2048</block><requested>0</requested></target>", "a"),
     .problem = "no <target><size>"},
    {.id = "block-missing",
     .xml = VMEM_WITH("<target><size>4096</size><requested>0</requested></target>", "a"),
     .problem = "no <target><block>"},
    {.id = "requested-missing",
     .xml = VMEM_WITH("<target><size>4096</size><block>2048</block></target>", "a"),
     .problem = "no <target><requested>"},
    {.id = "target-missing", .xml = VMEM_WITH("", "a"), .problem = "no <target><size>"},
    {.id = "unit-bad",
     .xml = VMEM_WITH("<target><size unit='KiBB'>4096</size><block>2048</block>"
                      "<requested>0</requested></target>",
                      "a"),
     .problem = "<target><size>: unknown unit 'KiBB'"},
    {.id = "size-overflow",
     .xml = VMEM_WITH("<target><size unit='EiB'>16</size><block>2048</block>"
                      "<requested>0</requested></target>",
                      "a"),
     .problem = "fits in 64 bits"},
    {.id = "requested-overflow-in-device",
     .xml = VMEM_WITH(VMEM_TARGET("4096", "2048", "18446744073709551616", "0"), "a"),
     .problem = "<target><requested>"},
    {.id = "current-not-a-number",
     .xml = VMEM_WITH(VMEM_TARGET("4096", "2048", "0", "-1"), "a"),
     .problem = "<target><current>: "},
    {.id = "size-empty",
     .xml = VMEM_WITH("<target><size/><block>2048</block><requested>0</requested></target>", "a"),
     .problem = "<target><size>: "},
    {.id = "size-twice",
     .xml = VMEM_WITH("<target><size>4096</size><size>4096</size><block>2048</block>"
                      "<requested>0</requested></target>",
                      "a"),
     .problem = "more than one <target><size>"},
    {.id = "requested-twice",
     .xml = VMEM_WITH(
         "<target><size>4096</size><block>2048</block><requested>0</requested><requested>2048"
         "</requested></target>",
         "a"),
     .problem = "more than one <target><requested>"},
    {.id = "requested-with-children",
     .xml = VMEM_WITH("<target><size>4096</size><block>2048</block><requested>0<x/>2048"
                      "</requested></target>",
                      "a"),
     .problem = "has child elements"},
    {.id = "block-zero",
     .xml = VMEM_WITH(VMEM_TARGET("4096", "0", "0", "0"), "a"),
     .problem = "not a power of two"},
    {.id = "block-under-kib",
     .xml = VMEM_WITH("<target><size>4096</size><block unit='b'>512</block>"
                      "<requested>0</requested></target>",
                      "a"),
     .problem = "not a power of two"},
    {.id = "block-huge",
     .xml = VMEM_WITH("<target><size unit='PiB'>4</size><block unit='PiB'>2</block>"
                      "<requested>0</requested></target>",
                      "a"),
     .problem = "not a power of two"},
    {.id = "size-zero",
     .xml = VMEM_WITH(VMEM_TARGET("0", "2048", "0", "0"), "a"),
     .problem = "size 0 bytes"},
    {.id = "size-not-whole-blocks",
     .xml = VMEM_WITH(VMEM_TARGET("5120", "2048", "0", "0"), "a"),
     .problem = "not a positive multiple"},
    {.id = "requested-beyond-size",
     .xml = VMEM_WITH(VMEM_TARGET("4096", "2048", "6144", "0"), "a"),
     .problem = "requested 6291456 bytes"},
    {.id = "requested-not-whole-blocks",
     .xml = VMEM_WITH(VMEM_TARGET("4096", "2048", "1024", "0"), "a"),
     .problem = "requested 1048576 bytes"},
    {.id = "current-beyond-size",
     .xml = VMEM_WITH(VMEM_TARGET("4096", "2048", "0", "8192"), "a"),
     .problem = "current 8388608 bytes is beyond"},
};

/* A device whose XML is too long to keep (deep or long: from a peer, bounded). */
static char *
memdev_huge_xml(void)
{
        g_autoptr(GString) xml = g_string_new("<memory model='virtio-mem'>");

        for (guint i = 0; i < 2000; i++)
                g_string_append(xml, "<pad a='0123456789'>");
        for (guint i = 0; i < 2000; i++)
                g_string_append(xml, "</pad>");
        g_string_append(xml, VMEM_TARGET("4096", "2048", "0", "0") "</memory>");
        return g_string_free(g_steal_pointer(&xml), FALSE);
}

/* A domain whose <memory> has room for the devices (libvirt counts them in it). */
#define MEMDEV_DOMAIN(x)                                                                           \
        "<domain type='kvm' id='3'>" NAME_UUID "<memory unit='PiB'>8</memory><devices>" x          \
        "</devices></domain>"

static void
test_memdev(gconstpointer data)
{
        const MemdevCase *c = data;
        g_autofree char *xml = g_strdup_printf(MEMDEV_DOMAIN("%s"), c->xml);
        g_autoptr(GError) error = NULL;
        g_auto(VtLibvirtDomainInfo) info = {0};
        const VtLibvirtMemdev *m = &info.memdev;

        g_assert_true(vt_libvirt_domain_parse(xml, &info, &error));
        g_assert_no_error(error);
        g_assert_cmpstr(info.name, ==, "vt-dom-a");
        g_assert_cmpuint(info.max_bytes + info.memory_devices_bytes, ==,
                         G_GUINT64_CONSTANT(8) << 50);
        if (c->devices_bytes != 0)
                g_assert_cmpuint(info.memory_devices_bytes, ==, c->devices_bytes);
        g_assert_cmpint(m->present, ==, c->present);
        g_assert_cmpstr(info.memdev_others, ==, c->others);
        if (c->problem == NULL) {
                g_assert_null(info.memdev_problem);
        } else {
                g_test_message("problem: %s", info.memdev_problem);
                g_assert_nonnull(info.memdev_problem);
                g_assert_nonnull(strstr(info.memdev_problem, c->problem));
        }
        if (!c->present) {
                g_assert_null(m->alias);
                g_assert_null(m->xml_head);
                return;
        }
        g_assert_cmpstr(m->alias, ==, c->alias);
        g_assert_cmpuint(m->size_bytes, ==, c->size_bytes);
        g_assert_cmpuint(m->block_bytes, ==, c->block_bytes);
        g_assert_cmpuint(m->requested_bytes, ==, c->requested_bytes);
        g_assert_cmpuint(m->current_bytes, ==, c->current_bytes);
        if (c->update != NULL) {
                g_autofree char *update = vt_libvirt_memdev_format_update(m, c->size_bytes, &error);

                g_assert_no_error(error);
                g_assert_true(g_str_has_prefix(update, c->update));
        }
}

/* The update's XML is well-formed, parses back as the same device, and
 * sizes it cannot say are refused. */
static void
test_memdev_update(void)
{
        g_autoptr(GError) error = NULL;
        g_auto(VtLibvirtDomainInfo) info = {0};
        g_auto(VtLibvirtDomainInfo) again = {0};
        g_auto(VtLibvirtMemdev) copy = {0};
        g_autofree char *update = NULL;
        g_autofree char *domain = NULL;

        g_assert_true(vt_libvirt_domain_parse(MEMDEV_DOMAIN(VMEM_GOOD), &info, &error));
        g_assert_no_error(error);
        vt_libvirt_memdev_copy(&info.memdev, &copy);
        vt_libvirt_domain_info_clear(&info);
        g_assert_cmpstr(copy.alias, ==, "virtiomem0");

        update = vt_libvirt_memdev_format_update(&copy, 768 * MIB, &error);
        g_assert_no_error(error);
        domain = g_strdup_printf(MEMDEV_DOMAIN("%s"), update);
        g_assert_true(vt_libvirt_domain_parse(domain, &again, &error));
        g_assert_no_error(error);
        g_assert_true(again.memdev.present);
        g_assert_cmpuint(again.memdev.requested_bytes, ==, 768 * MIB);
        g_assert_cmpuint(again.memdev.size_bytes, ==, 768 * MIB);
        g_assert_cmpuint(again.memdev.current_bytes, ==, 128 * MIB);
        g_assert_cmpstr(again.memdev.xml_head, ==, copy.xml_head);
        g_assert_cmpstr(again.memdev.xml_tail, ==, copy.xml_tail);

        for (guint i = 0; i < 3; i++) {
                static const guint64 bad[] = {770 * MIB, MIB, G_MAXUINT64};
                g_autofree char *refused = vt_libvirt_memdev_format_update(&copy, bad[i], &error);

                g_assert_null(refused);
                g_assert_error(error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT);
                g_assert_nonnull(strstr(error->message, "virtiomem0"));
                g_clear_error(&error);
        }
}

static void
test_memdev_huge(void)
{
        g_autofree char *device = memdev_huge_xml();
        g_autofree char *xml = g_strdup_printf(MEMDEV_DOMAIN("%s"), device);
        g_autoptr(GError) error = NULL;
        g_auto(VtLibvirtDomainInfo) info = {0};

        g_assert_true(vt_libvirt_domain_parse(xml, &info, &error));
        g_assert_no_error(error);
        g_assert_false(info.memdev.present);
        g_assert_nonnull(strstr(info.memdev_problem, "longer than"));
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autofree char *path =
                    g_strdup_printf("/host/libvirt-domain/parse/%s", cases[i].id);

                g_test_add_data_func(path, &cases[i], test_parse);
        }
        for (guint i = 0; i < G_N_ELEMENTS(scaled_cases); i++) {
                g_autofree char *path =
                    g_strdup_printf("/host/libvirt-domain/scaled/%s-%s", scaled_cases[i].value,
                                    scaled_cases[i].unit != NULL ? scaled_cases[i].unit : "none");

                g_strcanon(path + strlen("/host/libvirt-domain/scaled/"),
                           G_CSET_a_2_z G_CSET_A_2_Z G_CSET_DIGITS "-", '_');
                g_test_add_data_func(path, &scaled_cases[i], test_scaled);
        }
        for (guint i = 0; i < G_N_ELEMENTS(memdev_cases); i++) {
                g_autofree char *path =
                    g_strdup_printf("/host/libvirt-domain/memdev/%s", memdev_cases[i].id);

                g_test_add_data_func(path, &memdev_cases[i], test_memdev);
        }
        g_test_add_func("/host/libvirt-domain/memdev-update", test_memdev_update);
        g_test_add_func("/host/libvirt-domain/memdev-huge", test_memdev_huge);
        g_test_add_func("/host/libvirt-domain/info-clear", test_clear);
        return g_test_run();
}
