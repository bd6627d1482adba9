/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vmtide-agent: reports the guest's memory state to the host over the
 * virtio-serial port org.vmtide.agent.0 (docs/agent-protocol.md, docs/agent.md).
 * libc and json-c only, so that it can be linked statically.
 *
 * This file: the command line, the log and the clock. The loop and its
 * theory of operation are in agent-loop.c, the port in agent-port.c, the
 * host's requests in agent-request.c.
 */
#include "agent/agent-state.h"

#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vt-config.h"

#define DEFAULT_PORT         VT_AGENT_PORT_DIR VT_AGENT_PORT_NAME
#define DEFAULT_INTERVAL_MS  5000
#define DEFAULT_PSI_TRIGGER  "some 100000 1000000"
#define DEFAULT_DROP_PERCENT 10
#define DEFAULT_SAMPLE_MS    200
#define PSI_TRIGGER_MAX      127 /* the kernel reads at most 128 bytes with the NUL */

enum {
        OPT_PORT = 256,
        OPT_INTERVAL,
        OPT_PSI,
        OPT_DROP,
        OPT_SAMPLE,
        OPT_ROOT,
        OPT_SYS_ROOT,
        OPT_ONCE
};

static const struct option options[] = {
    {"port", required_argument, NULL, OPT_PORT},
    {"interval", required_argument, NULL, OPT_INTERVAL},
    {"psi-trigger", required_argument, NULL, OPT_PSI},
    {"drop-percent", required_argument, NULL, OPT_DROP},
    {"sample-ms", required_argument, NULL, OPT_SAMPLE},
    {"proc-root", required_argument, NULL, OPT_ROOT},
    {"sys-root", required_argument, NULL, OPT_SYS_ROOT},
    {"once", no_argument, NULL, OPT_ONCE},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

/**
 * vt_agent_log() - Print one line on stderr (the journal under systemd).
 * @fmt: printf format, without the newline
 */
void
vt_agent_log(const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        fputs("vmtide-agent: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
}

/**
 * vt_agent_now_us() - CLOCK_MONOTONIC in µs: the agent's only clock.
 */
int64_t
vt_agent_now_us(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/**
 * run_once() - Print one report on stdout (--once).
 * @agent: the agent, options set
 *
 * Return: the exit status
 */
static int
run_once(VtAgent *agent)
{
        char *line;
        int ret;

        agent->want_reason = VT_AGENT_REASON_REQUEST;
        line = vt_agent_sample_report(agent);
        if (!line)
                return 1;
        ret = fputs(line, stdout) < 0 || fflush(stdout) != 0;
        free(line);
        if (ret) {
                vt_agent_log("cannot write to stdout: %s", strerror(errno));
                return 1;
        }
        return 0;
}

static void
usage(FILE *out)
{
        fprintf(out,
                "Usage: vmtide-agent [OPTION]...\n"
                "Report this guest's memory state to the vmtide host daemon.\n"
                "\n"
                "  --port PATH          virtio-serial port (default " DEFAULT_PORT ")\n"
                "  --interval MS        periodic report interval, %d..%d (default %d)\n"
                "  --psi-trigger SPEC   PSI trigger for /proc/pressure/memory, or 'none'\n"
                "                       (default '" DEFAULT_PSI_TRIGGER "')\n"
                "  --drop-percent N     report when MemAvailable falls by more than N %% of\n"
                "                       MemTotal within 1 s; 0 disables (default %d)\n"
                "  --sample-ms MS       how often to read MemAvailable for that, %d..1000\n"
                "                       (default %d)\n"
                "  --proc-root DIR      read meminfo, vmstat, pressure/memory under DIR\n"
                "                       (default /proc)\n"
                "  --sys-root DIR       read block/zram*/mm_stat under DIR (default /sys)\n"
                "  --once               print one report on stdout and exit\n"
                "  -v, --verbose        also log each pressure and drop report\n"
                "  -h, --help           show this help and exit\n"
                "  -V, --version        show the version and exit\n",
                VT_AGENT_INTERVAL_MIN_MS, VT_AGENT_INTERVAL_MAX_MS, DEFAULT_INTERVAL_MS,
                DEFAULT_DROP_PERCENT, VT_AGENT_SAMPLE_MS_MIN, DEFAULT_SAMPLE_MS);
}

/**
 * parse_uint() - Parse a decimal option value within [@min, @max].
 * @text: the value
 * @min: lowest allowed
 * @max: highest allowed
 * @ret_value: receives it, only on success
 *
 * Return: true on success
 */
static bool
parse_uint(const char *text, unsigned long min, unsigned long max, unsigned long *ret_value)
{
        unsigned long value;
        char *end;

        if (*text < '0' || *text > '9')
                return false;
        errno = 0;
        value = strtoul(text, &end, 10);
        if (errno || *end != '\0' || value < min || value > max)
                return false;
        *ret_value = value;
        return true;
}

/**
 * parse_number_option() - Take the value of a numeric option.
 * @agent: receives the value
 * @opt: the option (OPT_INTERVAL, OPT_DROP or OPT_SAMPLE)
 * @text: its value
 *
 * Return: true on success; false, logged, if @text is out of range
 */
static bool
parse_number_option(VtAgent *agent, int opt, const char *text)
{
        unsigned long value;

        switch (opt) {
        case OPT_INTERVAL:
                if (!parse_uint(text, VT_AGENT_INTERVAL_MIN_MS, VT_AGENT_INTERVAL_MAX_MS, &value)) {
                        vt_agent_log("--interval: '%s' is not %d..%d ms", text,
                                     VT_AGENT_INTERVAL_MIN_MS, VT_AGENT_INTERVAL_MAX_MS);
                        return false;
                }
                agent->interval_ms = (uint32_t)value;
                return true;
        case OPT_DROP:
                if (!parse_uint(text, 0, 100, &value)) {
                        vt_agent_log("--drop-percent: '%s' is not 0..100", text);
                        return false;
                }
                agent->drop_percent = (unsigned)value;
                return true;
        default:
                if (!parse_uint(text, VT_AGENT_SAMPLE_MS_MIN, 1000, &value)) {
                        vt_agent_log("--sample-ms: '%s' is not %d..1000", text,
                                     VT_AGENT_SAMPLE_MS_MIN);
                        return false;
                }
                agent->tick_us = (int64_t)value * 1000;
                return true;
        }
}

/**
 * parse_options() - Set @agent from the command line.
 * @agent: the agent, with its defaults
 * @argc: main()'s
 * @argv: main()'s
 * @ret_once: set if --once was given
 *
 * Return: -1 to go on; otherwise the exit status (0 after --help or
 * --version, 2 for a bad command line, logged)
 */
static int
parse_options(VtAgent *agent, int argc, char **argv, bool *ret_once)
{
        int opt;

        while ((opt = getopt_long(argc, argv, "vhV", options, NULL)) != -1) {
                switch (opt) {
                case OPT_PORT:
                        agent->port_path = optarg;
                        break;
                case OPT_INTERVAL:
                case OPT_DROP:
                case OPT_SAMPLE:
                        if (!parse_number_option(agent, opt, optarg))
                                return 2;
                        break;
                case OPT_PSI:
                        if (strlen(optarg) > PSI_TRIGGER_MAX || optarg[0] == '\0') {
                                vt_agent_log("--psi-trigger: '%s' is empty or too long", optarg);
                                return 2;
                        }
                        agent->psi_trigger = strcmp(optarg, "none") == 0 ? NULL : optarg;
                        break;
                case OPT_ROOT:
                        agent->proc_root = optarg;
                        break;
                case OPT_SYS_ROOT:
                        agent->sys_root = optarg;
                        break;
                case OPT_ONCE:
                        *ret_once = true;
                        break;
                case 'v':
                        agent->verbose = true;
                        break;
                case 'h':
                        usage(stdout);
                        return 0;
                case 'V':
                        printf("vmtide-agent %s\n", VT_VERSION);
                        return 0;
                default:
                        usage(stderr);
                        return 2;
                }
        }
        if (optind < argc) {
                vt_agent_log("unexpected argument '%s'", argv[optind]);
                usage(stderr);
                return 2;
        }
        return -1;
}

int
main(int argc, char **argv)
{
        VtAgent agent = {
            .port_path = DEFAULT_PORT,
            .proc_root = "/proc",
            .sys_root = "/sys",
            .psi_trigger = DEFAULT_PSI_TRIGGER,
            .drop_percent = DEFAULT_DROP_PERCENT,
            .tick_us = DEFAULT_SAMPLE_MS * 1000,
            .interval_ms = DEFAULT_INTERVAL_MS,
            .port_fd = -1,
            .psi_fd = -1,
        };
        bool once = false;
        int status;

        status = parse_options(&agent, argc, argv, &once);
        if (status >= 0)
                return status;
        /*
         * json-c seeds its default string hash from /dev/urandom on first use,
         * which early in a guest's boot (CRNG not ready, no virtio-rng) spins in
         * try_to_generate_entropy() for up to a second of CPU. The Perl-like
         * hash needs no seed; the objects here are small and bounded.
         */
        json_global_set_string_hash(JSON_C_STR_HASH_PERLLIKE);
        if (once)
                return run_once(&agent);
        return vt_agent_run(&agent);
}
