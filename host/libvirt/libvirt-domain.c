/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What vmtided needs from a running libvirt domain's XML (issue #6). */

/*
 * Theory of operation: vmtided reads each running domain's live XML
 * (virDomainGetXMLDesc(dom, 0)) and keeps a handful of facts from it. A
 * domain's XML has hundreds of elements, grows with every libvirt release
 * and may carry any namespace in <metadata> and <qemu:commandline>, so
 * this parser is the opposite of libvirt-metadata.c's: it looks only at
 * the few paths it knows and ignores every other element and attribute.
 *
 *   /domain/name, /domain/uuid            required, text as written
 *   /domain/memory, /domain/currentMemory scaled integers (default KiB);
 *                                         <memory> required
 *   /domain/devices/memballoon            the first one: model, stats period,
 *                                         freePageReporting
 *   /domain/devices/channel               source and target of each
 *   /domain/devices/memory                the virtio-mem devices, handed to
 *                                         host/libvirt/libvirt-memdev.c
 *
 * Matching is by path, which is what skips <metadata>: a <name>, <memory>
 * or <channel> there sits deeper than any path above (or under another
 * parent) and is never looked at. The XML comes from libvirtd but is
 * treated as untrusted: nothing in it may crash the daemon; what is
 * malformed in the facts vmtided keeps (a size, a stats period, a second
 * <name>) is an error that names it, and the domain is left alone.
 *
 * The agent channel is the Unix socket chardev libvirt makes for
 * `<channel type='unix'><target type='virtio' name='org.vmtide.agent.0'/>`.
 * vmtided connects to it, so QEMU must be the listener: source mode
 * `bind` (libvirt's default for a Unix channel, and what it writes when it
 * picks the path itself under /var/lib/libvirt/qemu/channel/target/). A
 * channel with the agent's name that vmtided cannot use is reported in
 * @agent_problem rather than as an error: the domain is still managed,
 * without the agent. Of several such channels the first usable one wins.
 * Pure: the XML comes in as a string.
 */
#include "host/libvirt/libvirt-domain.h"

#include <string.h>

#include "host/libvirt/libvirt-metadata.h"

/* A domain's stats period is an int in libvirt. */
#define MAX_STATS_PERIOD_S G_MAXINT

typedef enum {
        FIELD_NONE,
        FIELD_NAME,
        FIELD_UUID,
        FIELD_MEMORY,
        FIELD_CURRENT_MEMORY,
} Field;

/* One <channel> under <devices>, as far as it matters here. */
typedef struct {
        char *type; /* <channel type> */
        gboolean has_source;
        char *mode; /* its first <source mode> */
        char *path; /* its first <source path> */
        gboolean has_target;
        char *target_type; /* its first <target type> */
        char *target_name; /* its first <target name> */
} Channel;

typedef struct {
        VtLibvirtDomainInfo info;
        guint depth;
        gboolean seen_root;
        gboolean has_memory;
        gboolean has_current_memory;
        gboolean in_devices;   /* inside /domain/devices */
        gboolean in_balloon;   /* inside the first /domain/devices/memballoon */
        gboolean seen_balloon; /* that one has been seen */
        gboolean in_channel;   /* inside /domain/devices/channel */
        gboolean in_memory;    /* inside /domain/devices/memory */
        VtLibvirtMemdevParser *memdev;
        Channel channel;
        Field field;         /* the /domain child whose text is being read */
        char *unit;          /* its unit attribute */
        GString *text;       /* its text */
        char *first_problem; /* why the first agent channel is unusable */
} Parser;

static void
channel_clear(Channel *channel)
{
        g_free(channel->type);
        g_free(channel->mode);
        g_free(channel->path);
        g_free(channel->target_type);
        g_free(channel->target_name);
        memset(channel, 0, sizeof(*channel));
}

#define set_invalid(context, error, ...)                                                           \
        vt_libvirt_set_markup_error(context, error, "libvirt domain XML", __VA_ARGS__)

/* The value of attribute @name, or NULL. */
static const char *
attribute(const char **names, const char **values, const char *name)
{
        for (guint i = 0; names[i] != NULL; i++)
                if (strcmp(names[i], name) == 0)
                        return values[i];
        return NULL;
}

static const char *const field_names[] = {
    [FIELD_NAME] = "name",
    [FIELD_UUID] = "uuid",
    [FIELD_MEMORY] = "memory",
    [FIELD_CURRENT_MEMORY] = "currentMemory",
};

static void
start_domain_child(Parser *p, GMarkupParseContext *context, const char *element_name,
                   const char **names, const char **values, GError **error)
{
        for (guint f = FIELD_NAME; f < G_N_ELEMENTS(field_names); f++) {
                if (strcmp(element_name, field_names[f]) != 0)
                        continue;
                if ((f == FIELD_NAME && p->info.name != NULL) ||
                    (f == FIELD_UUID && p->info.uuid != NULL) ||
                    (f == FIELD_MEMORY && p->has_memory) ||
                    (f == FIELD_CURRENT_MEMORY && p->has_current_memory)) {
                        set_invalid(context, error, "more than one <%s>", element_name);
                        return;
                }
                p->field = (Field)f;
                g_free(p->unit);
                p->unit = g_strdup(attribute(names, values, "unit"));
                g_string_truncate(p->text, 0);
                return;
        }
        if (strcmp(element_name, "devices") == 0)
                p->in_devices = TRUE;
}

static gboolean
parse_stats_period(const char *value, guint *ret_period_s)
{
        guint64 period = 0;

        if (value[0] == '\0')
                return FALSE;
        for (const char *c = value; *c != '\0'; c++) {
                if (!g_ascii_isdigit(*c))
                        return FALSE;
                period = period * 10 + (guint64)(*c - '0');
                if (period > MAX_STATS_PERIOD_S)
                        return FALSE;
        }
        *ret_period_s = (guint)period;
        return TRUE;
}

static void
start_balloon(Parser *p, GMarkupParseContext *context, const char **names, const char **values,
              GError **error)
{
        const char *model = attribute(names, values, "model");
        const char *reporting = attribute(names, values, "freePageReporting");

        /* libvirt allows one; should there be more, the first is the device. */
        if (p->seen_balloon)
                return;
        p->seen_balloon = TRUE;
        /* A live domain always has a model; "none" is how it says "no balloon". */
        if (model != NULL && strcmp(model, "none") == 0)
                return;
        p->in_balloon = TRUE;
        p->info.has_balloon = TRUE;
        if (reporting == NULL || strcmp(reporting, "off") == 0)
                return;
        if (strcmp(reporting, "on") != 0) {
                set_invalid(context, error,
                            "<memballoon freePageReporting='%s'>: expected on or off", reporting);
                return;
        }
        p->info.free_page_reporting = TRUE;
}

static void
start_balloon_child(Parser *p, GMarkupParseContext *context, const char *element_name,
                    const char **names, const char **values, GError **error)
{
        const char *period;

        if (strcmp(element_name, "stats") != 0)
                return;
        period = attribute(names, values, "period");
        if (period == NULL)
                return;
        if (!parse_stats_period(period, &p->info.stats_period_s))
                set_invalid(context, error,
                            "<memballoon><stats period='%s'>: not a number of seconds up to %d",
                            period, MAX_STATS_PERIOD_S);
}

static void
start_channel_child(Parser *p, const char *element_name, const char **names, const char **values)
{
        Channel *ch = &p->channel;

        if (strcmp(element_name, "source") == 0 && !ch->has_source) {
                ch->has_source = TRUE;
                ch->mode = g_strdup(attribute(names, values, "mode"));
                ch->path = g_strdup(attribute(names, values, "path"));
        } else if (strcmp(element_name, "target") == 0 && !ch->has_target) {
                ch->has_target = TRUE;
                ch->target_type = g_strdup(attribute(names, values, "type"));
                ch->target_name = g_strdup(attribute(names, values, "name"));
        }
}

static void
on_start(GMarkupParseContext *context, const char *element_name, const char **names,
         const char **values, gpointer user_data, GError **error)
{
        Parser *p = user_data;

        p->depth++;
        if (p->in_memory && p->depth > 3) {
                vt_libvirt_memdev_parser_start(p->memdev, p->depth - 3, element_name, names,
                                               values);
                return;
        }
        switch (p->depth) {
        case 1:
                if (p->seen_root)
                        set_invalid(context, error, "<%s>: more than one root element",
                                    element_name);
                else if (strcmp(element_name, "domain") != 0)
                        set_invalid(context, error, "<%s>: expected <domain>", element_name);
                p->seen_root = TRUE;
                return;
        case 2:
                start_domain_child(p, context, element_name, names, values, error);
                return;
        case 3:
                if (!p->in_devices)
                        return;
                if (strcmp(element_name, "memballoon") == 0) {
                        start_balloon(p, context, names, values, error);
                } else if (strcmp(element_name, "channel") == 0) {
                        channel_clear(&p->channel);
                        p->channel.type = g_strdup(attribute(names, values, "type"));
                        p->in_channel = TRUE;
                } else if (strcmp(element_name, "memory") == 0) {
                        p->in_memory = TRUE;
                        vt_libvirt_memdev_parser_start(p->memdev, 0, element_name, names, values);
                }
                return;
        case 4:
                if (p->in_balloon)
                        start_balloon_child(p, context, element_name, names, values, error);
                else if (p->in_channel)
                        start_channel_child(p, element_name, names, values);
                return;
        default:
                return;
        }
}

/*
 * Why vmtided cannot use @ch, the channel named VT_LIBVIRT_AGENT_CHANNEL,
 * or NULL if it can.
 */
static char *
channel_problem(const Channel *ch)
{
        if (ch->type == NULL)
                return g_strdup("channel has no type; vmtided needs type='unix'");
        if (strcmp(ch->type, "unix") != 0)
                return g_strdup_printf("channel type is '%s', not 'unix'", ch->type);
        if (ch->target_type == NULL)
                return g_strdup("target has no type; vmtided needs type='virtio'");
        if (strcmp(ch->target_type, "virtio") != 0)
                return g_strdup_printf("target type is '%s', not 'virtio'", ch->target_type);
        if (ch->mode != NULL && strcmp(ch->mode, "connect") == 0)
                return g_strdup("source mode is 'connect' (QEMU connects out); "
                                "vmtided needs mode='bind'");
        if (ch->mode != NULL && strcmp(ch->mode, "bind") != 0)
                return g_strdup_printf("unknown source mode '%s'; vmtided needs mode='bind'",
                                       ch->mode);
        if (ch->path == NULL || ch->path[0] == '\0')
                return g_strdup("no source path");
        if (ch->path[0] != '/')
                return g_strdup_printf("source path '%s' is not absolute", ch->path);
        return NULL;
}

static void
end_channel(Parser *p)
{
        Channel *ch = &p->channel;
        char *problem;

        p->in_channel = FALSE;
        if (p->info.agent_path != NULL || ch->target_name == NULL ||
            strcmp(ch->target_name, VT_LIBVIRT_AGENT_CHANNEL) != 0)
                return;
        problem = channel_problem(ch);
        if (problem == NULL)
                p->info.agent_path = g_strdup(ch->path);
        else if (p->first_problem == NULL)
                p->first_problem = problem;
        else
                g_free(problem);
}

static void
end_field(Parser *p, GMarkupParseContext *context, GError **error)
{
        const char *name = field_names[p->field];
        g_autoptr(GError) local_error = NULL;
        Field field = p->field;
        guint64 bytes = 0;

        p->field = FIELD_NONE;
        if (field == FIELD_NAME || field == FIELD_UUID) {
                if (p->text->len == 0) {
                        set_invalid(context, error, "<%s> is empty", name);
                        return;
                }
                if (field == FIELD_NAME)
                        p->info.name = g_strdup(p->text->str);
                else
                        p->info.uuid = g_strdup(p->text->str);
                return;
        }
        if (!vt_libvirt_parse_scaled(p->text->str, p->unit, &bytes, &local_error)) {
                set_invalid(context, error, "<%s>: %s", name, local_error->message);
                return;
        }
        if (field == FIELD_MEMORY) {
                if (bytes == 0) {
                        set_invalid(context, error, "<memory> is 0");
                        return;
                }
                p->info.max_bytes = bytes;
                p->has_memory = TRUE;
        } else {
                p->info.current_bytes = bytes;
                p->has_current_memory = TRUE;
        }
}

static void
on_end(GMarkupParseContext *context, const char *element_name, gpointer user_data, GError **error)
{
        Parser *p = user_data;

        /* GMarkup has checked @element_name matches its start. */
        p->depth--;
        if (p->in_memory) {
                vt_libvirt_memdev_parser_end(p->memdev, p->depth - 2, element_name);
                p->in_memory = p->depth > 2;
                return;
        }
        if (p->depth == 1) {
                if (p->field != FIELD_NONE)
                        end_field(p, context, error);
                p->in_devices = FALSE;
        } else if (p->depth == 2) {
                p->in_balloon = FALSE;
                if (p->in_channel)
                        end_channel(p);
        }
}

static void
on_text(GMarkupParseContext *context, const char *text, gsize length, gpointer user_data,
        GError **error)
{
        Parser *p = user_data;

        (void)context;
        (void)error;
        if (p->in_memory)
                vt_libvirt_memdev_parser_text(p->memdev, text, length);
        else if (p->depth == 2 && p->field != FIELD_NONE)
                g_string_append_len(p->text, text, (gssize)length);
}

/* libvirt's <memory> counts the memory devices: the boot memory is the rest. */
static gboolean
boot_memory(Parser *p, GError **error)
{
        guint64 devices = vt_libvirt_memdev_parser_get_devices_bytes(p->memdev);

        if (devices >= p->info.max_bytes) {
                g_set_error(error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT,
                            "libvirt domain XML: memory devices of %" G_GUINT64_FORMAT
                            " bytes leave nothing of <memory> (%" G_GUINT64_FORMAT " bytes)",
                            devices, p->info.max_bytes);
                return FALSE;
        }
        p->info.memory_devices_bytes = devices;
        p->info.max_bytes -= devices;
        return TRUE;
}

static void
parser_clear(Parser *p)
{
        vt_libvirt_domain_info_clear(&p->info);
        channel_clear(&p->channel);
        g_free(p->unit);
        g_string_free(p->text, TRUE);
        g_free(p->first_problem);
        vt_libvirt_memdev_parser_free(p->memdev);
}

/**
 * vt_libvirt_domain_parse:
 * @xml: a domain's XML, as virDomainGetXMLDesc(dom, 0) returns it
 * @ret_info: (out): what vmtided needs from it, written only on success
 *     (whatever it held is overwritten, not freed); clear it with
 *     vt_libvirt_domain_info_clear()
 * @error: %G_MARKUP_ERROR when @xml is not well-formed, its root is not
 *     `<domain>`, `<name>`, `<uuid>` or `<memory>` is missing, or a value
 *     read from it is malformed; the message names the element
 *
 * Elements and attributes other than those in #VtLibvirtDomainInfo are
 * ignored, and so is everything in `<metadata>`. An agent channel or a
 * virtio-mem device vmtided cannot use is no error: it is described in
 * @agent_problem or @memdev_problem.
 *
 * Returns: %TRUE on success
 */
gboolean
vt_libvirt_domain_parse(const char *xml, VtLibvirtDomainInfo *ret_info, GError **error)
{
        static const GMarkupParser parser = {
            .start_element = on_start,
            .end_element = on_end,
            .text = on_text,
        };
        g_autoptr(GMarkupParseContext) context = NULL;
        Parser p = {0};
        const char *missing = NULL;
        gboolean ok;

        g_return_val_if_fail(xml != NULL && ret_info != NULL, FALSE);

        /* GMarkup would quote the bad bytes in its error, and errors get logged. */
        if (!g_utf8_validate(xml, -1, NULL)) {
                g_set_error_literal(error, G_MARKUP_ERROR, G_MARKUP_ERROR_BAD_UTF8,
                                    "libvirt domain XML: not valid UTF-8");
                return FALSE;
        }
        p.text = g_string_new(NULL);
        p.memdev = vt_libvirt_memdev_parser_new();
        /* No G_MARKUP_PREFIX_ERROR_POSITION: set_invalid() says the line. */
        context = g_markup_parse_context_new(&parser, 0, &p, NULL);
        ok = g_markup_parse_context_parse(context, xml, -1, error) &&
             g_markup_parse_context_end_parse(context, error);
        if (ok) {
                if (p.info.name == NULL)
                        missing = "name";
                else if (p.info.uuid == NULL)
                        missing = "uuid";
                else if (!p.has_memory)
                        missing = "memory";
        }
        if (missing != NULL) {
                g_set_error(error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT,
                            "libvirt domain XML: no <%s> in <domain>", missing);
                ok = FALSE;
        }
        if (ok) {
                if (p.info.agent_path == NULL)
                        p.info.agent_problem = g_steal_pointer(&p.first_problem);
                ok = boot_memory(&p, error);
        }
        if (ok) {
                vt_libvirt_memdev_parser_steal(p.memdev, &p.info.memdev, &p.info.memdev_problem,
                                               &p.info.memdev_others);
                *ret_info = p.info;
                memset(&p.info, 0, sizeof(p.info));
        }
        parser_clear(&p);
        return ok;
}

/**
 * vt_libvirt_domain_info_clear:
 * @info: (nullable): a #VtLibvirtDomainInfo, zeroed or filled by
 *     vt_libvirt_domain_parse()
 *
 * Frees what @info holds and zeroes it; clearing it again does nothing.
 */
void
vt_libvirt_domain_info_clear(VtLibvirtDomainInfo *info)
{
        if (info == NULL)
                return;
        g_free(info->name);
        g_free(info->uuid);
        g_free(info->agent_path);
        g_free(info->agent_problem);
        vt_libvirt_memdev_clear(&info->memdev);
        g_free(info->memdev_problem);
        g_free(info->memdev_others);
        memset(info, 0, sizeof(*info));
}
