/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A running domain's virtio-mem device, read from its XML and written back resized (issue 17). */

/*
 * Theory of operation: libvirt writes a running domain's virtio-mem device
 * as
 *
 *   <memory model='virtio-mem'>
 *     <target>
 *       <size unit='KiB'>786432</size>        the device's maximum
 *       <node>0</node>
 *       <block unit='KiB'>2048</block>
 *       <requested unit='KiB'>0</requested>   what the guest is asked for
 *       <current unit='KiB'>0</current>       what it has plugged
 *     </target>
 *     <alias name='virtiomem0'/>
 *     <address type='pci' .../>
 *   </memory>
 *
 * and changes the requested size of the running device when given the
 * same XML with another <requested> (virDomainUpdateDeviceFlags(), what
 * `virsh update-memory-device --requested-size` does): it finds the device
 * by everything else in it (alias, address, size, node, block, source), so
 * the XML sent must be the device as libvirt wrote it. The parser
 * therefore writes the first virtio-mem device out again as it reads it
 * (elements, attributes and text, escaped; comments dropped) and cuts it
 * at the value of <requested>, which vt_libvirt_memdev_format_update()
 * fills in, in KiB.
 *
 * The domain parser (libvirt-domain.c) feeds this one every element
 * under /domain/devices/memory. Other memory models (dimm, nvdimm,
 * virtio-pmem) are skipped. A second virtio-mem device is not driven, only
 * named. A device that does not add up (a missing or repeated size, a
 * bad unit, a value past 64 bits, a block that is not a power of two,
 * requested or current beyond the maximum, an XML too large to keep) is
 * no error of the domain: it is reported as a problem, the device is not
 * driven and the balloon still is. Pure: no I/O.
 */
#include "host/libvirt/libvirt-memdev.h"

#include <string.h>

#include "balloon/balloon-memdev.h"
#include "host/libvirt/libvirt-metadata.h"

typedef enum {
        TARGET_NONE,
        TARGET_SIZE,
        TARGET_BLOCK,
        TARGET_REQUESTED,
        TARGET_CURRENT,
        TARGET_MAX,
} TargetField;

static const char *const target_names[TARGET_MAX] = {
    [TARGET_SIZE] = "size",
    [TARGET_BLOCK] = "block",
    [TARGET_REQUESTED] = "requested",
    [TARGET_CURRENT] = "current",
};

typedef enum {
        DEVICE_NONE,    /* not inside a <memory> device */
        DEVICE_IGNORED, /* another model, or a virtio-mem device past the first */
        DEVICE_DRIVEN,  /* the first virtio-mem device */
} DeviceMode;

struct _VtLibvirtMemdevParser {
        DeviceMode mode;
        gboolean in_any_target;   /* inside any device's <target> */
        gboolean in_any_size;     /* inside any device's <target><size> */
        GString *any_size;        /* its text */
        char *any_unit;           /* its unit */
        guint64 devices_bytes;    /* the sizes of every memory device */
        gboolean devices_unknown; /* one of them unreadable */
        guint n_virtio_mem;       /* virtio-mem devices seen */
        gboolean is_other;        /* @mode DEVICE_IGNORED for a virtio-mem device */
        char *other_alias;        /* that one's alias */
        GPtrArray *others;        /* names of the virtio-mem devices not driven */
        VtLibvirtMemdev dev;      /* the driven one, being read */
        gboolean in_target;
        GString *xml; /* the driven device, written out again */
        gsize split;  /* where its <requested> value goes; 0: not yet */
        gboolean in_requested_value;
        gboolean has[TARGET_MAX];
        TargetField field; /* the <target> child whose text is read */
        char *unit;        /* its unit */
        GString *text;     /* its text */
        char *problem;     /* the first thing wrong with the driven device */
};

static const char *
attribute(const char **names, const char **values, const char *name)
{
        for (guint i = 0; names[i] != NULL; i++)
                if (strcmp(names[i], name) == 0)
                        return values[i];
        return NULL;
}

static void G_GNUC_PRINTF(2, 3) set_problem(VtLibvirtMemdevParser *p, const char *format, ...)
{
        va_list ap;

        if (p->problem != NULL)
                return;
        va_start(ap, format);
        p->problem = g_strdup_vprintf(format, ap);
        va_end(ap);
}

/* Appends to the device's XML, within VT_LIBVIRT_MEMDEV_XML_MAX. */
static void
xml_append(VtLibvirtMemdevParser *p, const char *text)
{
        if (p->xml->len + strlen(text) > VT_LIBVIRT_MEMDEV_XML_MAX) {
                set_problem(p, "its XML is longer than %d bytes", VT_LIBVIRT_MEMDEV_XML_MAX);
                return;
        }
        g_string_append(p->xml, text);
}

static void
xml_append_start(VtLibvirtMemdevParser *p, const char *element_name, const char **names,
                 const char **values)
{
        g_autoptr(GString) tag = g_string_new(NULL);
        g_autofree char *name = g_markup_escape_text(element_name, -1);

        g_string_append_printf(tag, "<%s", name);
        for (guint i = 0; names[i] != NULL; i++) {
                g_autofree char *attr = g_markup_printf_escaped(" %s='%s'", names[i], values[i]);

                g_string_append(tag, attr);
        }
        g_string_append_c(tag, '>');
        xml_append(p, tag->str);
}

static void
start_device(VtLibvirtMemdevParser *p, const char *element_name, const char **names,
             const char **values)
{
        const char *model = attribute(names, values, "model");

        p->mode = DEVICE_IGNORED;
        if (strcmp(element_name, "memory") != 0 || g_strcmp0(model, "virtio-mem") != 0)
                return;
        p->n_virtio_mem++;
        if (p->n_virtio_mem > 1) {
                p->is_other = TRUE;
                return;
        }
        p->mode = DEVICE_DRIVEN;
        xml_append_start(p, element_name, names, values);
}

static void
start_target_child(VtLibvirtMemdevParser *p, const char *element_name, const char **names,
                   const char **values)
{
        for (guint f = TARGET_SIZE; f < TARGET_MAX; f++) {
                if (strcmp(element_name, target_names[f]) != 0)
                        continue;
                if (p->has[f])
                        set_problem(p, "more than one <target><%s>", element_name);
                p->field = (TargetField)f;
                g_free(p->unit);
                p->unit = g_strdup(attribute(names, values, "unit"));
                g_string_truncate(p->text, 0);
                break;
        }
        if (p->field != TARGET_REQUESTED || p->split != 0) {
                xml_append_start(p, element_name, names, values);
                return;
        }
        /* The value vt_libvirt_memdev_format_update() writes is in KiB. */
        xml_append(p, "<requested unit='KiB'>");
        p->split = p->xml->len;
        p->in_requested_value = TRUE;
}

/**
 * vt_libvirt_memdev_parser_start:
 * @p: a parser
 * @depth: the element's depth below /domain/devices/memory (that: 0)
 * @element_name: its name
 * @names: its attributes' names
 * @values: their values
 */
void
vt_libvirt_memdev_parser_start(VtLibvirtMemdevParser *p, guint depth, const char *element_name,
                               const char **names, const char **values)
{
        if (depth == 0) {
                start_device(p, element_name, names, values);
                return;
        }
        if (depth == 1 && strcmp(element_name, "target") == 0) {
                p->in_any_target = TRUE;
        } else if (depth == 2 && p->in_any_target && strcmp(element_name, "size") == 0) {
                p->in_any_size = TRUE;
                g_string_truncate(p->any_size, 0);
                g_free(p->any_unit);
                p->any_unit = g_strdup(attribute(names, values, "unit"));
        }
        if (p->is_other && depth == 1 && strcmp(element_name, "alias") == 0 &&
            p->other_alias == NULL)
                p->other_alias = g_strdup(attribute(names, values, "name"));
        if (p->mode != DEVICE_DRIVEN)
                return;
        if (depth > 2 && p->field != TARGET_NONE)
                set_problem(p, "<target><%s> has child elements", target_names[p->field]);
        if (depth == 1 && strcmp(element_name, "target") == 0)
                p->in_target = TRUE;
        else if (depth == 1 && strcmp(element_name, "alias") == 0 && p->dev.alias == NULL)
                p->dev.alias = g_strdup(attribute(names, values, "name"));
        if (depth == 2 && p->in_target)
                start_target_child(p, element_name, names, values);
        else
                xml_append_start(p, element_name, names, values);
}

/**
 * vt_libvirt_memdev_parser_text:
 * @p: a parser
 * @text: text inside the device
 * @length: its length
 */
void
vt_libvirt_memdev_parser_text(VtLibvirtMemdevParser *p, const char *text, gsize length)
{
        g_autofree char *escaped = NULL;

        if (p->in_any_size)
                g_string_append_len(p->any_size, text, (gssize)length);
        if (p->mode != DEVICE_DRIVEN)
                return;
        if (p->field != TARGET_NONE)
                g_string_append_len(p->text, text, (gssize)length);
        if (p->in_requested_value)
                return;
        escaped = g_markup_escape_text(text, (gssize)length);
        xml_append(p, escaped);
}

static void
end_target_child(VtLibvirtMemdevParser *p)
{
        const char *name = target_names[p->field];
        g_autoptr(GError) error = NULL;
        guint64 bytes = 0;

        if (!vt_libvirt_parse_scaled(p->text->str, p->unit, &bytes, &error)) {
                set_problem(p, "<target><%s>: %s", name, error->message);
        } else {
                guint64 *fields[TARGET_MAX] = {
                    [TARGET_SIZE] = &p->dev.size_bytes,
                    [TARGET_BLOCK] = &p->dev.block_bytes,
                    [TARGET_REQUESTED] = &p->dev.requested_bytes,
                    [TARGET_CURRENT] = &p->dev.current_bytes,
                };

                *fields[p->field] = bytes;
        }
        p->has[p->field] = TRUE;
        p->field = TARGET_NONE;
        p->in_requested_value = FALSE;
}

/* What does not add up in the driven device's figures, as its problem. */
static void
check_device(VtLibvirtMemdevParser *p)
{
        const VtLibvirtMemdev *d = &p->dev;

        for (guint f = TARGET_SIZE; f <= TARGET_REQUESTED; f++)
                if (!p->has[f])
                        set_problem(p, "no <target><%s>", target_names[f]);
        if (p->problem != NULL)
                return;
        if (d->block_bytes < 1024 || d->block_bytes > VT_MEMDEV_BLOCK_MAX ||
            (d->block_bytes & (d->block_bytes - 1)) != 0)
                set_problem(p,
                            "block size %" G_GUINT64_FORMAT " bytes is not a power of two "
                            "from 1 KiB to 1 TiB",
                            d->block_bytes);
        else if (d->size_bytes == 0 || d->size_bytes % d->block_bytes != 0)
                set_problem(p,
                            "size %" G_GUINT64_FORMAT " bytes is not a positive multiple "
                            "of the block size",
                            d->size_bytes);
        else if (d->requested_bytes > d->size_bytes || d->requested_bytes % d->block_bytes != 0)
                set_problem(p,
                            "requested %" G_GUINT64_FORMAT " bytes is not a multiple of the "
                            "block size up to the size",
                            d->requested_bytes);
        else if (d->current_bytes > d->size_bytes)
                set_problem(p, "current %" G_GUINT64_FORMAT " bytes is beyond its size",
                            d->current_bytes);
}

/* Any memory device's size: libvirt counts it in the domain's <memory>. */
static void
end_any_size(VtLibvirtMemdevParser *p)
{
        guint64 bytes = 0;

        p->in_any_size = FALSE;
        if (!vt_libvirt_parse_scaled(p->any_size->str, p->any_unit, &bytes, NULL) ||
            bytes > G_MAXUINT64 - p->devices_bytes)
                p->devices_unknown = TRUE;
        else
                p->devices_bytes += bytes;
}

static void
end_device(VtLibvirtMemdevParser *p)
{
        if (p->is_other) {
                if (p->others->len < VT_LIBVIRT_MEMDEV_OTHERS_MAX)
                        g_ptr_array_add(p->others, p->other_alias != NULL
                                                       ? g_strdup_printf("'%s'", p->other_alias)
                                                       : g_strdup("one without an alias"));
                g_clear_pointer(&p->other_alias, g_free);
                p->is_other = FALSE;
        }
        if (p->mode == DEVICE_DRIVEN) {
                xml_append(p, "</memory>");
                check_device(p);
                if (p->problem == NULL) {
                        p->dev.present = TRUE;
                        p->dev.xml_head = g_strndup(p->xml->str, p->split);
                        p->dev.xml_tail = g_strdup(p->xml->str + p->split);
                }
        }
        p->mode = DEVICE_NONE;
}

/**
 * vt_libvirt_memdev_parser_end:
 * @p: a parser
 * @depth: the element's depth below /domain/devices/memory
 * @element_name: its name
 */
void
vt_libvirt_memdev_parser_end(VtLibvirtMemdevParser *p, guint depth, const char *element_name)
{
        g_autofree char *name = NULL;
        g_autofree char *tag = NULL;

        if (depth == 0) {
                end_device(p);
                return;
        }
        if (depth == 2 && p->in_any_size)
                end_any_size(p);
        else if (depth == 1)
                p->in_any_target = FALSE;
        if (p->mode != DEVICE_DRIVEN)
                return;
        if (depth == 2 && p->field != TARGET_NONE)
                end_target_child(p);
        else if (depth == 1)
                p->in_target = FALSE;
        name = g_markup_escape_text(element_name, -1);
        tag = g_strdup_printf("</%s>", name);
        xml_append(p, tag);
}

/**
 * vt_libvirt_memdev_parser_get_devices_bytes:
 * @p: a parser the whole domain went through
 *
 * Returns: the sizes of all the domain's memory devices (every model),
 *     which libvirt counts in its `<memory>`
 */
guint64
vt_libvirt_memdev_parser_get_devices_bytes(VtLibvirtMemdevParser *p)
{
        return p->devices_unknown ? 0 : p->devices_bytes;
}

/**
 * vt_libvirt_memdev_parser_new:
 *
 * Returns: (transfer full): a parser for one domain's XML
 */
VtLibvirtMemdevParser *
vt_libvirt_memdev_parser_new(void)
{
        VtLibvirtMemdevParser *p = g_new0(VtLibvirtMemdevParser, 1);

        p->xml = g_string_new(NULL);
        p->text = g_string_new(NULL);
        p->any_size = g_string_new(NULL);
        p->others = g_ptr_array_new_with_free_func(g_free);
        return p;
}

/**
 * vt_libvirt_memdev_parser_free:
 * @p: (nullable) (transfer full): a parser
 */
void
vt_libvirt_memdev_parser_free(VtLibvirtMemdevParser *p)
{
        if (p == NULL)
                return;
        vt_libvirt_memdev_clear(&p->dev);
        g_free(p->other_alias);
        g_ptr_array_unref(p->others);
        g_string_free(p->xml, TRUE);
        g_string_free(p->text, TRUE);
        g_string_free(p->any_size, TRUE);
        g_free(p->any_unit);
        g_free(p->unit);
        g_free(p->problem);
        g_free(p);
}

/**
 * vt_libvirt_memdev_parser_steal:
 * @p: a parser the whole domain went through
 * @ret_memdev: (out): the driven device (@present FALSE: none usable);
 *     clear it with vt_libvirt_memdev_clear()
 * @ret_problem: (out) (transfer full) (nullable): why the first virtio-mem
 *     device is not driven, or %NULL
 * @ret_others: (out) (transfer full) (nullable): the virtio-mem devices
 *     past the first, named ("'virtiomem1', 'virtiomem2'"), or %NULL
 *
 * A device is not driven either when the size of another memory device
 * cannot be read: the boot memory would not be known.
 */
void
vt_libvirt_memdev_parser_steal(VtLibvirtMemdevParser *p, VtLibvirtMemdev *ret_memdev,
                               char **ret_problem, char **ret_others)
{
        if (p->devices_unknown)
                set_problem(p, "the size of a memory device cannot be read: the boot "
                               "memory is not known");
        if (p->problem != NULL)
                vt_libvirt_memdev_clear(&p->dev);
        if (p->dev.present) {
                *ret_memdev = p->dev;
                memset(&p->dev, 0, sizeof(p->dev));
        } else {
                memset(ret_memdev, 0, sizeof(*ret_memdev));
        }
        *ret_problem = g_steal_pointer(&p->problem);
        *ret_others = NULL;
        if (p->n_virtio_mem > 1) {
                g_autoptr(GString) others = g_string_new(NULL);

                for (guint i = 0; i < p->others->len; i++)
                        g_string_append_printf(others, "%s%s", i > 0 ? ", " : "",
                                               (const char *)p->others->pdata[i]);
                if (p->n_virtio_mem - 1 > p->others->len)
                        g_string_append_printf(others, " and %u more",
                                               p->n_virtio_mem - 1 - p->others->len);
                *ret_others = g_string_free(g_steal_pointer(&others), FALSE);
        }
}

/**
 * vt_libvirt_memdev_clear:
 * @memdev: (nullable): a device, zeroed or filled by the parser
 *
 * Frees what @memdev holds and zeroes it.
 */
void
vt_libvirt_memdev_clear(VtLibvirtMemdev *memdev)
{
        if (memdev == NULL)
                return;
        g_free(memdev->alias);
        g_free(memdev->xml_head);
        g_free(memdev->xml_tail);
        memset(memdev, 0, sizeof(*memdev));
}

/**
 * vt_libvirt_memdev_copy:
 * @memdev: a device
 * @ret_copy: (out): a deep copy; clear it with vt_libvirt_memdev_clear()
 */
void
vt_libvirt_memdev_copy(const VtLibvirtMemdev *memdev, VtLibvirtMemdev *ret_copy)
{
        *ret_copy = *memdev;
        ret_copy->alias = g_strdup(memdev->alias);
        ret_copy->xml_head = g_strdup(memdev->xml_head);
        ret_copy->xml_tail = g_strdup(memdev->xml_tail);
}

/**
 * vt_libvirt_memdev_format_update:
 * @memdev: a device the parser found (@present)
 * @requested_bytes: its new requested size
 * @error: %G_MARKUP_ERROR_INVALID_CONTENT when @requested_bytes is not a
 *     multiple of the block size up to the device's size (the XML cannot
 *     say it)
 *
 * Returns: (transfer full) (nullable): the device's XML with
 *     `<requested unit='KiB'>` @requested_bytes, for
 *     virDomainUpdateDeviceFlags()
 */
char *
vt_libvirt_memdev_format_update(const VtLibvirtMemdev *memdev, guint64 requested_bytes,
                                GError **error)
{
        g_return_val_if_fail(memdev != NULL && memdev->present, NULL);

        if (requested_bytes > memdev->size_bytes || requested_bytes % memdev->block_bytes != 0) {
                g_set_error(error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT,
                            "virtio-mem device '%s': %" G_GUINT64_FORMAT
                            " bytes is not a multiple of its block (%" G_GUINT64_FORMAT
                            ") up to its size (%" G_GUINT64_FORMAT ")",
                            memdev->alias != NULL ? memdev->alias : "?", requested_bytes,
                            memdev->block_bytes, memdev->size_bytes);
                return NULL;
        }
        /* The block is a multiple of 1 KiB (checked): so is the value. */
        return g_strdup_printf("%s%" G_GUINT64_FORMAT "%s", memdev->xml_head,
                               requested_bytes / 1024, memdev->xml_tail);
}
