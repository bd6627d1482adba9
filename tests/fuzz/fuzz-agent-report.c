/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The host's validation of what a guest's agent sends, on a hostile
 * stream: framed as the reader frames it (VT_AGENT_LINE_MAX,
 * VT_AGENT_LINE_MAX_DEPTH), each line checked against the last one
 * accepted as the reader does. What is accepted must keep the promises
 * of VtAgentReport: figures within their totals, pressure a percentage.
 */
#include <math.h>
#include <stdlib.h>

#include "host/agent-channel/agent-channel-report.h"
#include "tests/fuzz/fuzz-common.h"

typedef struct {
        VtAgentReport previous;
        gboolean have_previous;
} AgentStream;

static void
check_psi(const VtAgentPsi *psi)
{
        const double avgs[] = {psi->avg10, psi->avg60, psi->avg300};

        for (guint i = 0; i < G_N_ELEMENTS(avgs); i++)
                if (!(avgs[i] >= 0.0 && avgs[i] <= 100.0))
                        abort();
}

static void
check_report(const VtAgentReport *r)
{
        if (r->kind != VT_AGENT_MESSAGE_REPORT)
                return;
        if ((r->fields & VT_AGENT_HAS_FREE) && r->mem_free > r->mem_total)
                abort();
        if ((r->fields & VT_AGENT_HAS_AVAILABLE) && r->mem_available > r->mem_total)
                abort();
        if ((r->fields & VT_AGENT_HAS_SWAP) && r->swap_free > r->swap_total)
                abort();
        if (r->fields & VT_AGENT_HAS_PSI_SOME)
                check_psi(&r->psi_some);
        if (r->fields & VT_AGENT_HAS_PSI_FULL)
                check_psi(&r->psi_full);
}

static void
on_line(json_object *object, gpointer user_data)
{
        AgentStream *stream = user_data;
        g_autoptr(GError) error = NULL;
        VtAgentReport report = {0};

        if (!vt_agent_report_parse(object, stream->have_previous ? &stream->previous : NULL,
                                   &report, &error)) {
                if (error == NULL || error->domain != VT_AGENT_ERROR)
                        abort();
                return;
        }
        check_report(&report);
        vt_agent_report_clear(&stream->previous);
        vt_agent_report_copy(&report, &stream->previous);
        stream->have_previous = TRUE;
        vt_agent_report_clear(&report);
}

/**
 * LLVMFuzzerTestOneInput:
 * @data: one input: what an agent writes to its port
 * @size: its length
 *
 * Returns: 0
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        AgentStream stream = {0};

        vt_fuzz_each_message(data, size, VT_AGENT_LINE_MAX - 1, VT_AGENT_LINE_MAX_DEPTH, 0, on_line,
                             &stream);
        vt_agent_report_clear(&stream.previous);
        return 0;
}
