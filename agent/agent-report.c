/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The agent's side of the protocol (docs/agent-protocol.md): builds the
 * "report" and "hello" lines, and parses and validates host requests.
 *
 * Requests come from the host, which is more trusted than the guest but is
 * still a peer: a request is taken only if it is one complete JSON object of
 * at most VT_AGENT_LINE_MAX bytes with its newline, VT_AGENT_LINE_MAX_DEPTH levels
 * deep, valid UTF-8, "v": 1, a known "type" and well-typed, in-range members.
 * Everything else is refused, for the caller to count. No I/O here.
 */
#include "agent/agent-report.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vt-config.h"

/**
 * add_u64() - Add an integer member; json-c integers are signed 64-bit.
 * @object: the object
 * @key: member name
 * @value: the value, clamped to INT64_MAX
 */
static void
add_u64(json_object *object, const char *key, uint64_t value)
{
        json_object_object_add(
            object, key, json_object_new_int64(value > INT64_MAX ? INT64_MAX : (int64_t)value));
}

/**
 * add_if_filled() - Add @child to @parent as @key if it has members, else drop it.
 */
static void
add_if_filled(json_object *parent, const char *key, json_object *child)
{
        if (json_object_object_length(child) > 0)
                json_object_object_add(parent, key, child);
        else
                json_object_put(child);
}

/**
 * new_line_object() - Start a line: an object with "v", "type" and "seq".
 * @type: VT_AGENT_TYPE_REPORT or VT_AGENT_TYPE_HELLO
 * @seq: the line's sequence number
 *
 * Return: (transfer full) the object, or NULL if memory ran out
 */
static json_object *
new_line_object(const char *type, uint64_t seq)
{
        json_object *object = json_object_new_object();

        if (!object)
                return NULL;
        json_object_object_add(object, VT_AGENT_KEY_VERSION,
                               json_object_new_int(VT_AGENT_PROTOCOL_VERSION));
        json_object_object_add(object, VT_AGENT_KEY_TYPE, json_object_new_string(type));
        add_u64(object, VT_AGENT_KEY_SEQ, seq);
        return object;
}

/**
 * to_line() - Serialise @object as one protocol line and release it.
 * @object: (transfer full) the object
 *
 * Return: (transfer full) a malloc'd, NUL-terminated line ending in '\n', or
 * NULL if it would exceed VT_AGENT_LINE_MAX or memory ran out
 */
static char *
to_line(json_object *object)
{
        const char *text;
        size_t len;
        char *line = NULL;

        text = json_object_to_json_string_ext(object, JSON_C_TO_STRING_PLAIN |
                                                          JSON_C_TO_STRING_NOSLASHESCAPE);
        if (text) {
                len = strlen(text);
                if (len + 1 <= VT_AGENT_LINE_MAX) {
                        line = malloc(len + 2);
                        if (line) {
                                memcpy(line, text, len);
                                line[len] = '\n';
                                line[len + 1] = '\0';
                        }
                }
        }
        json_object_put(object);
        return line;
}

/**
 * zram_build() - The "zram" array of a report, or NULL when the guest uses no zram.
 * @sample: the sample
 *
 * Return: (transfer full) the array, or NULL
 */
static json_object *
zram_build(const VtAgentSample *sample)
{
        json_object *array;

        if (sample->n_zram == 0)
                return NULL;
        array = json_object_new_array();
        for (unsigned i = 0; array && i < sample->n_zram && i < VT_AGENT_ZRAM_MAX; i++) {
                const VtAgentZram *z = &sample->zram[i];
                json_object *dev = json_object_new_object();

                json_object_object_add(dev, VT_AGENT_KEY_ZRAM_NAME,
                                       json_object_new_string(z->name));
                add_u64(dev, VT_AGENT_KEY_ZRAM_ORIG, z->orig);
                add_u64(dev, VT_AGENT_KEY_ZRAM_COMPR, z->compr);
                add_u64(dev, VT_AGENT_KEY_ZRAM_USED, z->used);
                add_u64(dev, VT_AGENT_KEY_ZRAM_LIMIT, z->limit);
                add_u64(dev, VT_AGENT_KEY_ZRAM_HUGE_PAGES, z->huge_pages);
                json_object_object_add(dev, VT_AGENT_KEY_ZRAM_SWAP,
                                       json_object_new_boolean(z->swap));
                json_object_array_add(array, dev);
        }
        return array;
}

/**
 * vt_agent_report_build() - Build a "report" line.
 * @sample: the sample; must have MemTotal
 * @meta: seq, reason, times and the agent's own figures
 *
 * Fields absent from @sample are omitted, and so is an object left empty.
 * PSI averages are written with two decimals, as the kernel gives them.
 *
 * Return: (transfer full) the line, ending in '\n', to free(); NULL if memory
 * ran out or @sample lacks MemTotal
 */
char *
vt_agent_report_build(const VtAgentSample *sample, const VtAgentReportMeta *meta)
{
        json_object *object, *mem, *vm, *psi, *agent, *zram;

        if (!sample || !meta || !sample->has_mem[VT_AGENT_MEM_TOTAL] ||
            meta->reason >= VT_AGENT_REASON_MAX)
                return NULL;
        object = new_line_object(VT_AGENT_TYPE_REPORT, meta->seq);
        if (!object)
                return NULL;
        json_object_object_add(object, VT_AGENT_KEY_REASON,
                               json_object_new_string(vt_agent_reason_to_string(meta->reason)));
        add_u64(object, VT_AGENT_KEY_UPTIME_MS, meta->uptime_ms);
        add_u64(object, VT_AGENT_KEY_INTERVAL_MS, meta->interval_ms);

        mem = json_object_new_object();
        for (size_t i = 0; i < VT_AGENT_MEM_MAX; i++) {
                if (sample->has_mem[i])
                        add_u64(mem, vt_agent_mem_get_name((VtAgentProcMem)i), sample->mem[i]);
        }
        add_if_filled(object, VT_AGENT_KEY_MEM, mem);

        vm = json_object_new_object();
        for (size_t i = 0; i < VT_AGENT_VM_MAX; i++) {
                if (sample->has_vm[i])
                        add_u64(vm, vt_agent_vm_get_name((VtAgentProcVm)i), sample->vm[i]);
        }
        add_if_filled(object, VT_AGENT_KEY_VM, vm);

        psi = json_object_new_object();
        for (size_t i = 0; i < VT_AGENT_PSI_MAX; i++) {
                char text[32];

                if (!sample->has_psi_avg[i])
                        continue;
                snprintf(text, sizeof(text), "%.2f", sample->psi_avg[i]);
                json_object_object_add(psi, vt_agent_psi_get_name((VtAgentProcPsi)i),
                                       json_object_new_double_s(sample->psi_avg[i], text));
        }
        for (size_t i = 0; i < VT_AGENT_PSI_TOTAL_MAX; i++) {
                if (sample->has_psi_total[i])
                        add_u64(psi, vt_agent_psi_total_get_name((VtAgentProcPsiTotal)i),
                                sample->psi_total_us[i]);
        }
        add_if_filled(object, VT_AGENT_KEY_PSI, psi);

        agent = json_object_new_object();
        add_u64(agent, VT_AGENT_KEY_AGENT_CPU_US, meta->self.cpu_us);
        if (meta->self.has_rss)
                add_u64(agent, VT_AGENT_KEY_AGENT_RSS_BYTES, meta->self.rss_bytes);
        add_u64(agent, VT_AGENT_KEY_AGENT_DROPPED_REQUESTS, meta->dropped_requests);
        json_object_object_add(object, VT_AGENT_KEY_AGENT, agent);

        zram = zram_build(sample);
        if (zram)
                json_object_object_add(object, VT_AGENT_KEY_ZRAM, zram);

        return to_line(object);
}

/**
 * vt_agent_hello_build() - Build a "hello" line.
 * @seq: the line's sequence number
 * @interval_ms: the current periodic interval
 * @psi_trigger: whether the kernel accepted the PSI trigger (feature "psi-trigger")
 *
 * Return: (transfer full) the line, ending in '\n', to free(); NULL if memory ran out
 */
char *
vt_agent_hello_build(uint64_t seq, uint32_t interval_ms, bool psi_trigger)
{
        json_object *object, *features;

        object = new_line_object(VT_AGENT_TYPE_HELLO, seq);
        if (!object)
                return NULL;
        json_object_object_add(object, VT_AGENT_KEY_AGENT_VERSION,
                               json_object_new_string(VT_VERSION));
        add_u64(object, VT_AGENT_KEY_REVISION, VT_AGENT_PROTOCOL_REVISION);
        add_u64(object, VT_AGENT_KEY_INTERVAL_MS, interval_ms);
        features = json_object_new_array();
        if (psi_trigger)
                json_object_array_add(features, json_object_new_string(VT_AGENT_FEATURE_PSI));
        json_object_object_add(object, VT_AGENT_KEY_FEATURES, features);
        return to_line(object);
}

/**
 * parse_object() - Parse @line as exactly one JSON object within the protocol's bounds.
 * @line: the line, without its newline
 * @len: its length
 *
 * Return: (transfer full) the object, or NULL
 */
static json_object *
parse_object(const char *line, size_t len)
{
        json_tokener *tok;
        json_object *object;

        /* The bound includes the newline; a NUL cannot be in a JSON text. */
        if (len + 1 > VT_AGENT_LINE_MAX || memchr(line, '\0', len))
                return NULL;
        /* json-c's depth counts one more than the levels it lets through. */
        tok = json_tokener_new_ex(VT_AGENT_LINE_MAX_DEPTH + 1);
        if (!tok)
                return NULL;
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
        object = json_tokener_parse_ex(tok, line, (int)len);
        if (object && (json_tokener_get_error(tok) != json_tokener_success ||
                       json_tokener_get_parse_end(tok) != len ||
                       !json_object_is_type(object, json_type_object))) {
                json_object_put(object);
                object = NULL;
        }
        json_tokener_free(tok);
        return object;
}

/**
 * request_from_object() - Validate a parsed request object.
 * @object: the object
 * @ret_request: receives the request; written only on success
 *
 * Return: true if @object is a valid version 1 request
 */
static bool
request_from_object(json_object *object, VtAgentRequest *ret_request)
{
        VtAgentRequest request = {0};
        json_object *member;
        const char *type;

        if (!json_object_object_get_ex(object, VT_AGENT_KEY_VERSION, &member) ||
            !json_object_is_type(member, json_type_int) ||
            json_object_get_int64(member) != VT_AGENT_PROTOCOL_VERSION)
                return false;
        if (!json_object_object_get_ex(object, VT_AGENT_KEY_TYPE, &member) ||
            !json_object_is_type(member, json_type_string))
                return false;
        type = json_object_get_string(member);
        if (strcmp(type, VT_AGENT_TYPE_HELLO) == 0) {
                request.type = VT_AGENT_REQUEST_HELLO;
        } else if (strcmp(type, VT_AGENT_TYPE_REPORT_NOW) == 0) {
                request.type = VT_AGENT_REQUEST_REPORT_NOW;
        } else if (strcmp(type, VT_AGENT_TYPE_SET_INTERVAL) == 0) {
                int64_t interval;

                /* json-c keeps integers beyond INT64_MAX as INT64_MAX: out of range too. */
                if (!json_object_object_get_ex(object, VT_AGENT_KEY_INTERVAL_MS, &member) ||
                    !json_object_is_type(member, json_type_int))
                        return false;
                interval = json_object_get_int64(member);
                if (interval < VT_AGENT_INTERVAL_MIN_MS || interval > VT_AGENT_INTERVAL_MAX_MS)
                        return false;
                request.type = VT_AGENT_REQUEST_SET_INTERVAL;
                request.interval_ms = (uint32_t)interval;
        } else {
                return false;
        }
        *ret_request = request;
        return true;
}

/**
 * vt_agent_request_parse() - Parse and validate one host request line.
 * @line: the line, without its newline (a trailing '\r' is JSON whitespace)
 * @len: its length
 * @ret_request: receives the request; written only on success
 *
 * Return: true for a valid request; false for anything the protocol says to
 * drop and count (broken JSON, too long or deep, wrong version, unknown type,
 * wrong member types, an interval out of range)
 */
bool
vt_agent_request_parse(const char *line, size_t len, VtAgentRequest *ret_request)
{
        json_object *object;
        bool ok;

        if (!line || !ret_request)
                return false;
        object = parse_object(line, len);
        if (!object)
                return false;
        ok = request_from_object(object, ret_request);
        json_object_put(object);
        return ok;
}
