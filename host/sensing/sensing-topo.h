/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* NUMA nodes and memory tiers of the host (report only). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define VT_HOST_NODES_MAX 64
#define VT_HOST_TIERS_MAX 16

/**
 * VtHostNode:
 * @id: the node number
 * @mem_total: its MemTotal, bytes (0: a node without memory)
 * @mem_free: its MemFree, bytes
 * @has_cpus: its cpulist is not empty
 *
 * One NUMA node. Plain data.
 */
typedef struct {
        gint id;
        guint64 mem_total;
        guint64 mem_free;
        gboolean has_cpus;
} VtHostNode;

/**
 * VtHostTier:
 * @id: the tier's number (memory_tierN; a lower number is a faster tier,
 *     DRAM is 4 by default)
 * @nodelist: its `nodelist`, e.g. "0-1"
 *
 * One memory tier (kernel 6.1+). Plain data.
 */
typedef struct {
        gint id;
        char nodelist[64];
} VtHostTier;

/**
 * VtHostTopo:
 * @n_nodes: nodes in @nodes (/sys/devices/system/node/nodeN)
 * @nodes: the nodes, in order
 * @has_tiers: /sys/devices/virtual/memory_tiering exists
 * @n_tiers: tiers in @tiers
 * @tiers: the tiers, in order
 *
 * Plain data.
 */
typedef struct {
        guint n_nodes;
        VtHostNode nodes[VT_HOST_NODES_MAX];
        gboolean has_tiers;
        guint n_tiers;
        VtHostTier tiers[VT_HOST_TIERS_MAX];
} VtHostTopo;

gboolean vt_host_node_meminfo_parse(const char *text, VtHostNode *node);
void vt_host_topo_read(const char *root, VtHostTopo *ret);

G_END_DECLS
