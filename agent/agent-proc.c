/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Pure parsers of /proc/meminfo, /proc/vmstat and /proc/pressure/memory.
 *
 * Theory of operation: the text comes from the guest kernel, whichever
 * version it is, and may be cut short (a file larger than the reader's
 * buffer). Each parser walks the text line by line and takes only the lines
 * it knows, in their exact shape; anything else is skipped. A value that
 * does not parse, overflows 64 bits (also after kB -> bytes), or is outside
 * its range leaves its field absent: the report omits it rather than guess.
 * No I/O here (agent-sample.c reads the files).
 */
#include "agent/agent-proc.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "vt-agent-protocol.h"

#define LINE_MAX_BYTES 256 /* longer lines are not ones we know */

static const struct {
        const char *key;  /* in /proc/meminfo */
        const char *name; /* in the protocol */
} mem_fields[VT_AGENT_MEM_MAX] = {
    [VT_AGENT_MEM_TOTAL] = {"MemTotal", VT_AGENT_KEY_MEM_TOTAL},
    [VT_AGENT_MEM_FREE] = {"MemFree", VT_AGENT_KEY_MEM_FREE},
    [VT_AGENT_MEM_AVAILABLE] = {"MemAvailable", VT_AGENT_KEY_MEM_AVAILABLE},
    [VT_AGENT_MEM_BUFFERS] = {"Buffers", VT_AGENT_KEY_MEM_BUFFERS},
    [VT_AGENT_MEM_CACHED] = {"Cached", VT_AGENT_KEY_MEM_CACHED},
    [VT_AGENT_MEM_SHMEM] = {"Shmem", VT_AGENT_KEY_MEM_SHMEM},
    [VT_AGENT_MEM_ANON] = {"AnonPages", VT_AGENT_KEY_MEM_ANON},
    [VT_AGENT_MEM_SWAP_TOTAL] = {"SwapTotal", VT_AGENT_KEY_MEM_SWAP_TOTAL},
    [VT_AGENT_MEM_SWAP_FREE] = {"SwapFree", VT_AGENT_KEY_MEM_SWAP_FREE},
    [VT_AGENT_MEM_ZSWAP] = {"Zswap", VT_AGENT_KEY_MEM_ZSWAP},
    [VT_AGENT_MEM_ZSWAPPED] = {"Zswapped", VT_AGENT_KEY_MEM_ZSWAPPED},
};

/* The vmstat name is also the protocol name. */
static const char *const vm_names[VT_AGENT_VM_MAX] = {
    [VT_AGENT_VM_PGMAJFAULT] = VT_AGENT_KEY_VM_PGMAJFAULT,
    [VT_AGENT_VM_PSWPIN] = VT_AGENT_KEY_VM_PSWPIN,
    [VT_AGENT_VM_PSWPOUT] = VT_AGENT_KEY_VM_PSWPOUT,
    [VT_AGENT_VM_OOM_KILL] = VT_AGENT_KEY_VM_OOM_KILL,
    [VT_AGENT_VM_ALLOCSTALL] = VT_AGENT_KEY_VM_ALLOCSTALL,
    [VT_AGENT_VM_PGSCAN_DIRECT] = VT_AGENT_KEY_VM_PGSCAN_DIRECT,
    [VT_AGENT_VM_ZSWPIN] = VT_AGENT_KEY_VM_ZSWPIN,
    [VT_AGENT_VM_ZSWPOUT] = VT_AGENT_KEY_VM_ZSWPOUT,
};

static const char *const psi_names[VT_AGENT_PSI_MAX] = {
    [VT_AGENT_PSI_SOME_AVG10] = VT_AGENT_KEY_PSI_SOME_AVG10,
    [VT_AGENT_PSI_SOME_AVG60] = VT_AGENT_KEY_PSI_SOME_AVG60,
    [VT_AGENT_PSI_SOME_AVG300] = VT_AGENT_KEY_PSI_SOME_AVG300,
    [VT_AGENT_PSI_FULL_AVG10] = VT_AGENT_KEY_PSI_FULL_AVG10,
    [VT_AGENT_PSI_FULL_AVG60] = VT_AGENT_KEY_PSI_FULL_AVG60,
    [VT_AGENT_PSI_FULL_AVG300] = VT_AGENT_KEY_PSI_FULL_AVG300,
};

static const char *const psi_total_names[VT_AGENT_PSI_TOTAL_MAX] = {
    [VT_AGENT_PSI_SOME_TOTAL] = VT_AGENT_KEY_PSI_SOME_TOTAL_US,
    [VT_AGENT_PSI_FULL_TOTAL] = VT_AGENT_KEY_PSI_FULL_TOTAL_US,
};

/**
 * vt_agent_mem_get_name() - Protocol name of a meminfo field ("total", ...).
 * @field: the field
 *
 * Return: a static string
 */
const char *
vt_agent_mem_get_name(VtAgentProcMem field)
{
        return field < VT_AGENT_MEM_MAX ? mem_fields[field].name : NULL;
}

/**
 * vt_agent_vm_get_name() - Protocol name of a vmstat counter ("pgmajfault", ...).
 * @field: the counter
 *
 * Return: a static string
 */
const char *
vt_agent_vm_get_name(VtAgentProcVm field)
{
        return field < VT_AGENT_VM_MAX ? vm_names[field] : NULL;
}

/**
 * vt_agent_psi_get_name() - Protocol name of a PSI average ("some_avg10", ...).
 * @field: the average
 *
 * Return: a static string
 */
const char *
vt_agent_psi_get_name(VtAgentProcPsi field)
{
        return field < VT_AGENT_PSI_MAX ? psi_names[field] : NULL;
}

/**
 * vt_agent_psi_total_get_name() - Protocol name of a PSI total ("some_total_us", ...).
 * @field: the total
 *
 * Return: a static string
 */
const char *
vt_agent_psi_total_get_name(VtAgentProcPsiTotal field)
{
        return field < VT_AGENT_PSI_TOTAL_MAX ? psi_total_names[field] : NULL;
}

/**
 * next_line() - Copy the next line of @text into @line, NUL-terminated.
 * @text: cursor into the text; advanced past the line and its newline
 * @line: receives the line; a line longer than @size - 1 is cut (and so unknown)
 * @size: size of @line
 *
 * Return: false at the end of the text
 */
static bool
next_line(const char **text, char *line, size_t size)
{
        const char *start = *text;
        const char *end;
        size_t len;

        if (*start == '\0')
                return false;
        end = strchr(start, '\n');
        if (!end)
                end = start + strlen(start);
        len = (size_t)(end - start);
        if (len >= size) {
                /* Too long for anything we know: hand out an empty line. */
                len = 0;
        }
        memcpy(line, start, len);
        line[len] = '\0';
        *text = *end == '\n' ? end + 1 : end;
        return true;
}

/**
 * parse_u64() - Parse an unsigned decimal at *@p.
 * @p: cursor, advanced past the digits
 * @ret_value: receives the value, only on success
 *
 * Return: false if there are no digits or the value overflows
 */
static bool
parse_u64(const char **p, uint64_t *ret_value)
{
        const char *s = *p;
        uint64_t value = 0;
        bool overflow = false;

        if (*s < '0' || *s > '9')
                return false;
        for (; *s >= '0' && *s <= '9'; s++) {
                unsigned digit = (unsigned)(*s - '0');

                if (value > (UINT64_MAX - digit) / 10)
                        overflow = true;
                else
                        value = value * 10 + digit;
        }
        *p = s;
        if (overflow)
                return false;
        *ret_value = value;
        return true;
}

/**
 * parse_percent() - Parse a PSI average ("12.34") at *@p.
 * @p: cursor, advanced past the number
 * @ret_value: receives the value, only on success
 *
 * Locale-independent; accepts digits with an optional fraction, 0 to 100.
 *
 * Return: false if malformed or out of range
 */
static bool
parse_percent(const char **p, double *ret_value)
{
        const char *s = *p;
        uint64_t whole;
        double value, scale = 0.1;

        if (!parse_u64(&s, &whole) || whole > 100)
                return false;
        value = (double)whole;
        if (*s == '.') {
                s++;
                if (*s < '0' || *s > '9')
                        return false;
                for (; *s >= '0' && *s <= '9'; s++) {
                        value += (*s - '0') * scale;
                        scale /= 10;
                }
        }
        *p = s;
        if (value > 100.0)
                return false;
        *ret_value = value;
        return true;
}

static const char *
skip_blanks(const char *s)
{
        while (*s == ' ' || *s == '\t')
                s++;
        return s;
}

/**
 * vt_agent_parse_meminfo() - Fill the mem part of @sample from /proc/meminfo text.
 * @text: the file's contents, NUL-terminated
 * @sample: its mem fields are cleared, then set for each known line
 *
 * Takes only "Key: <number> kB" lines of the keys in VtAgentProcMem. The caller
 * checks has_mem[VT_AGENT_MEM_TOTAL] (a report needs it).
 *
 * Return: the number of fields set
 */
int
vt_agent_parse_meminfo(const char *text, VtAgentSample *sample)
{
        char line[LINE_MAX_BYTES];
        int n = 0;

        memset(sample->mem, 0, sizeof(sample->mem));
        memset(sample->has_mem, 0, sizeof(sample->has_mem));
        while (next_line(&text, line, sizeof(line))) {
                char *colon = strchr(line, ':');
                const char *p;
                uint64_t kib;
                size_t i;

                if (!colon)
                        continue;
                *colon = '\0';
                for (i = 0; i < VT_AGENT_MEM_MAX; i++) {
                        if (strcmp(line, mem_fields[i].key) == 0)
                                break;
                }
                if (i == VT_AGENT_MEM_MAX)
                        continue;
                /* A later malformed duplicate must not leave an earlier value standing. */
                if (sample->has_mem[i]) {
                        sample->has_mem[i] = false;
                        n--;
                }
                p = skip_blanks(colon + 1);
                if (!parse_u64(&p, &kib))
                        continue;
                p = skip_blanks(p);
                if (strncmp(p, "kB", 2) != 0 || *skip_blanks(p + 2) != '\0')
                        continue;
                if (kib > UINT64_MAX / 1024)
                        continue;
                sample->mem[i] = kib * 1024;
                sample->has_mem[i] = true;
                n++;
        }
        return n;
}

/**
 * vm_field_of() - Which counter a vmstat name feeds.
 * @name: the vmstat name
 *
 * allocstall and pgscan_direct were split per zone in some kernels
 * (allocstall_normal, pgscan_direct_dma32, ...); those add up into one
 * counter. pgscan_direct_throttle counts something else.
 *
 * Return: the counter, or VT_AGENT_VM_MAX for none
 */
static VtAgentProcVm
vm_field_of(const char *name)
{
        for (size_t i = 0; i < VT_AGENT_VM_MAX; i++) {
                size_t len = strlen(vm_names[i]);

                if (strncmp(name, vm_names[i], len) != 0)
                        continue;
                if (name[len] == '\0')
                        return (VtAgentProcVm)i;
                if (name[len] == '_' && name[len + 1] != '\0' &&
                    (i == VT_AGENT_VM_ALLOCSTALL || (i == VT_AGENT_VM_PGSCAN_DIRECT &&
                                                     strcmp(name, "pgscan_direct_throttle") != 0)))
                        return (VtAgentProcVm)i;
        }
        return VT_AGENT_VM_MAX;
}

/**
 * vt_agent_parse_vmstat() - Fill the vm part of @sample from /proc/vmstat text.
 * @text: the file's contents, NUL-terminated
 * @sample: its vm counters are cleared, then set from "name <number>" lines
 *
 * A counter that is a sum is left out entirely if any of its parts is
 * malformed or the sum overflows.
 *
 * Return: the number of counters set
 */
int
vt_agent_parse_vmstat(const char *text, VtAgentSample *sample)
{
        bool broken[VT_AGENT_VM_MAX] = {false};
        char line[LINE_MAX_BYTES];
        int n = 0;

        memset(sample->vm, 0, sizeof(sample->vm));
        memset(sample->has_vm, 0, sizeof(sample->has_vm));
        while (next_line(&text, line, sizeof(line))) {
                char *space = strchr(line, ' ');
                const char *p;
                uint64_t value;
                VtAgentProcVm field;

                if (!space)
                        continue;
                *space = '\0';
                field = vm_field_of(line);
                if (field == VT_AGENT_VM_MAX)
                        continue;
                p = skip_blanks(space + 1);
                if (!parse_u64(&p, &value) || *skip_blanks(p) != '\0' ||
                    value > UINT64_MAX - sample->vm[field]) {
                        broken[field] = true;
                        continue;
                }
                sample->vm[field] += value;
                sample->has_vm[field] = true;
        }
        for (size_t i = 0; i < VT_AGENT_VM_MAX; i++) {
                if (broken[i]) {
                        sample->vm[i] = 0;
                        sample->has_vm[i] = false;
                }
                n += sample->has_vm[i];
        }
        return n;
}

/**
 * parse_psi_line() - Parse "avg10=A avg60=B avg300=C total=T" into @sample.
 * @p: the line after "some " or "full "
 * @first_avg: VT_AGENT_PSI_SOME_AVG10 or VT_AGENT_PSI_FULL_AVG10
 * @total: VT_AGENT_PSI_SOME_TOTAL or VT_AGENT_PSI_FULL_TOTAL
 * @sample: receives the values that parse
 */
static void
parse_psi_line(const char *p, VtAgentProcPsi first_avg, VtAgentProcPsiTotal total,
               VtAgentSample *sample)
{
        static const char *const avg_keys[] = {"avg10=", "avg60=", "avg300="};

        for (;;) {
                bool known = false;

                p = skip_blanks(p);
                if (*p == '\0')
                        return;
                for (size_t i = 0; i < 3; i++) {
                        size_t len = strlen(avg_keys[i]);
                        double value;

                        if (strncmp(p, avg_keys[i], len) != 0)
                                continue;
                        known = true;
                        p += len;
                        if (parse_percent(&p, &value) && (*p == ' ' || *p == '\0')) {
                                sample->psi_avg[first_avg + i] = value;
                                sample->has_psi_avg[first_avg + i] = true;
                        }
                        break;
                }
                if (!known && strncmp(p, "total=", 6) == 0) {
                        uint64_t value;

                        p += 6;
                        if (parse_u64(&p, &value) && (*p == ' ' || *p == '\0')) {
                                sample->psi_total_us[total] = value;
                                sample->has_psi_total[total] = true;
                        }
                }
                /* On to the next token, whatever this one was. */
                while (*p != ' ' && *p != '\0')
                        p++;
        }
}

/**
 * vt_agent_parse_psi() - Fill the psi part of @sample from /proc/pressure/memory text.
 * @text: the file's contents, NUL-terminated
 * @sample: its psi fields are cleared, then set from the "some" and "full" lines
 *
 * Return: the number of fields set
 */
int
vt_agent_parse_psi(const char *text, VtAgentSample *sample)
{
        char line[LINE_MAX_BYTES];
        int n = 0;

        memset(sample->psi_avg, 0, sizeof(sample->psi_avg));
        memset(sample->has_psi_avg, 0, sizeof(sample->has_psi_avg));
        memset(sample->psi_total_us, 0, sizeof(sample->psi_total_us));
        memset(sample->has_psi_total, 0, sizeof(sample->has_psi_total));
        while (next_line(&text, line, sizeof(line))) {
                if (strncmp(line, "some ", 5) == 0)
                        parse_psi_line(line + 5, VT_AGENT_PSI_SOME_AVG10, VT_AGENT_PSI_SOME_TOTAL,
                                       sample);
                else if (strncmp(line, "full ", 5) == 0)
                        parse_psi_line(line + 5, VT_AGENT_PSI_FULL_AVG10, VT_AGENT_PSI_FULL_TOTAL,
                                       sample);
        }
        for (size_t i = 0; i < VT_AGENT_PSI_MAX; i++)
                n += sample->has_psi_avg[i];
        for (size_t i = 0; i < VT_AGENT_PSI_TOTAL_MAX; i++)
                n += sample->has_psi_total[i];
        return n;
}

/**
 * vt_agent_parse_mm_stat() - Parse a zram device's mm_stat into @zram.
 * @text: the file's contents: orig_data_size compr_data_size mem_used_total
 *        mem_limit mem_used_max same_pages pages_compacted huge_pages
 *        [huge_pages_since], blank-separated (huge_pages since 5.0)
 * @zram: its figures are set only on success; @name and @swap are left alone
 *
 * Return: false if the first four numbers or huge_pages do not parse, or
 * a size is above VT_AGENT_MEMORY_MAX
 */
bool
vt_agent_parse_mm_stat(const char *text, VtAgentZram *zram)
{
        uint64_t v[8];
        const char *p = text;

        for (size_t i = 0; i < 8; i++) {
                p = skip_blanks(p);
                if (!parse_u64(&p, &v[i]))
                        return false;
        }
        for (size_t i = 0; i < 4; i++) {
                if (v[i] > VT_AGENT_MEMORY_MAX)
                        return false;
        }
        zram->orig = v[0];
        zram->compr = v[1];
        zram->used = v[2];
        zram->limit = v[3];
        zram->huge_pages = v[7];
        return true;
}

/**
 * vt_agent_parse_swaps_has() - Whether /proc/swaps lists @device.
 * @text: /proc/swaps
 * @device: "/dev/zram0"
 *
 * Return: true if a line starts with @device followed by a blank
 */
bool
vt_agent_parse_swaps_has(const char *text, const char *device)
{
        char line[LINE_MAX_BYTES];
        size_t len = strlen(device);

        while (next_line(&text, line, sizeof(line))) {
                if (strncmp(line, device, len) == 0 && (line[len] == ' ' || line[len] == '\t'))
                        return true;
        }
        return false;
}
