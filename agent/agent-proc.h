/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The guest's memory figures from /proc: the sample, its pure parsers and its reader. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "vt-agent-protocol.h"

/**
 * VtAgentProcMem - /proc/meminfo fields of a sample (bytes).
 */
typedef enum {
        VT_AGENT_MEM_TOTAL,      /* MemTotal */
        VT_AGENT_MEM_FREE,       /* MemFree */
        VT_AGENT_MEM_AVAILABLE,  /* MemAvailable (3.14+) */
        VT_AGENT_MEM_BUFFERS,    /* Buffers */
        VT_AGENT_MEM_CACHED,     /* Cached */
        VT_AGENT_MEM_SHMEM,      /* Shmem (2.6.32+) */
        VT_AGENT_MEM_ANON,       /* AnonPages */
        VT_AGENT_MEM_SWAP_TOTAL, /* SwapTotal */
        VT_AGENT_MEM_SWAP_FREE,  /* SwapFree */
        VT_AGENT_MEM_ZSWAP,      /* Zswap: the zswap pool (5.19+, with CONFIG_ZSWAP) */
        VT_AGENT_MEM_ZSWAPPED,   /* Zswapped: what it holds, uncompressed */
        VT_AGENT_MEM_MAX,
} VtAgentProcMem;

/**
 * VtAgentProcVm - /proc/vmstat counters of a sample (events since boot).
 */
typedef enum {
        VT_AGENT_VM_PGMAJFAULT,
        VT_AGENT_VM_PSWPIN,
        VT_AGENT_VM_PSWPOUT,
        VT_AGENT_VM_OOM_KILL,      /* 4.13+ */
        VT_AGENT_VM_ALLOCSTALL,    /* allocstall, or the sum of allocstall_<zone> (4.11+) */
        VT_AGENT_VM_PGSCAN_DIRECT, /* pgscan_direct, or the sum of pgscan_direct_<zone> */
        VT_AGENT_VM_ZSWPIN,        /* zswap loads (5.19+, with CONFIG_ZSWAP) */
        VT_AGENT_VM_ZSWPOUT,       /* zswap stores */
        VT_AGENT_VM_MAX,
} VtAgentProcVm;

/**
 * VtAgentProcPsi - /proc/pressure/memory averages of a sample (percent, 0-100).
 */
typedef enum {
        VT_AGENT_PSI_SOME_AVG10,
        VT_AGENT_PSI_SOME_AVG60,
        VT_AGENT_PSI_SOME_AVG300,
        VT_AGENT_PSI_FULL_AVG10,
        VT_AGENT_PSI_FULL_AVG60,
        VT_AGENT_PSI_FULL_AVG300,
        VT_AGENT_PSI_MAX,
} VtAgentProcPsi;

/**
 * VtAgentProcPsiTotal - /proc/pressure/memory total stall times of a sample (µs).
 */
typedef enum {
        VT_AGENT_PSI_SOME_TOTAL,
        VT_AGENT_PSI_FULL_TOTAL,
        VT_AGENT_PSI_TOTAL_MAX,
} VtAgentProcPsiTotal;

/**
 * VtAgentZram - One zram device: /sys/block/<name>/mm_stat, and whether it is swap.
 * @name: "zram0", ...
 * @orig: orig_data_size, bytes
 * @compr: compr_data_size, bytes
 * @used: mem_used_total, bytes
 * @limit: mem_limit, bytes (0: none)
 * @huge_pages: huge_pages (incompressible pages stored)
 * @swap: the device is in /proc/swaps
 */
typedef struct {
        char name[VT_AGENT_ZRAM_NAME_MAX + 8];
        uint64_t orig;
        uint64_t compr;
        uint64_t used;
        uint64_t limit;
        uint64_t huge_pages;
        bool swap;
} VtAgentZram;

/**
 * VtAgentSample - One reading of the guest's memory state.
 * @mem: /proc/meminfo figures in bytes, indexed by VtAgentProcMem
 * @has_mem: whether each @mem field was read; a field the kernel lacks stays false
 * @vm: /proc/vmstat counters, indexed by VtAgentProcVm
 * @has_vm: whether each @vm counter was read
 * @psi_avg: /proc/pressure/memory averages in percent, indexed by VtAgentProcPsi
 * @has_psi_avg: whether each @psi_avg was read
 * @psi_total_us: /proc/pressure/memory total stall times in µs, indexed by VtAgentProcPsiTotal
 * @has_psi_total: whether each @psi_total_us was read
 * @zram: the zram devices in use (a store or swap), @n_zram of them
 * @n_zram: how many
 *
 * Plain data; zero it before filling. A value that does not parse, overflows
 * or is out of its range is left out, never guessed.
 */
typedef struct {
        uint64_t mem[VT_AGENT_MEM_MAX];
        bool has_mem[VT_AGENT_MEM_MAX];
        uint64_t vm[VT_AGENT_VM_MAX];
        bool has_vm[VT_AGENT_VM_MAX];
        double psi_avg[VT_AGENT_PSI_MAX];
        bool has_psi_avg[VT_AGENT_PSI_MAX];
        uint64_t psi_total_us[VT_AGENT_PSI_TOTAL_MAX];
        bool has_psi_total[VT_AGENT_PSI_TOTAL_MAX];
        VtAgentZram zram[VT_AGENT_ZRAM_MAX];
        unsigned n_zram;
} VtAgentSample;

const char *vt_agent_mem_get_name(VtAgentProcMem field);
const char *vt_agent_vm_get_name(VtAgentProcVm field);
const char *vt_agent_psi_get_name(VtAgentProcPsi field);
const char *vt_agent_psi_total_get_name(VtAgentProcPsiTotal field);

int vt_agent_parse_meminfo(const char *text, VtAgentSample *sample);
int vt_agent_parse_vmstat(const char *text, VtAgentSample *sample);
int vt_agent_parse_psi(const char *text, VtAgentSample *sample);
bool vt_agent_parse_mm_stat(const char *text, VtAgentZram *zram);
bool vt_agent_parse_swaps_has(const char *text, const char *device);

/* agent-sample.c: the I/O. */

/**
 * VtAgentSelf - The agent's own resource use.
 * @cpu_us: user + system CPU time, µs
 * @rss_bytes: resident set size, bytes
 * @has_rss: whether @rss_bytes could be read
 */
typedef struct {
        uint64_t cpu_us;
        uint64_t rss_bytes;
        bool has_rss;
} VtAgentSelf;

int vt_agent_sample_read(const char *proc_root, VtAgentSample *ret_sample);
int vt_agent_sample_read_meminfo(const char *proc_root, VtAgentSample *ret_sample);
void vt_agent_sample_read_zram(const char *sys_root, const char *proc_root, VtAgentSample *sample);
void vt_agent_self_read(VtAgentSelf *ret_self);
