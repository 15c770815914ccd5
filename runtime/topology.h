/*
 * The host's topology as tconv needs it: cache sizes for the blocking model
 * and the tuner's host fingerprint, physical cores for the thread pool, and
 * binding a thread to one core. Read once per process with hwloc (Debian
 * libhwloc-dev) and shared read-only afterwards.
 *
 * Only the cores this process may run on count (its affinity mask, so a
 * `taskset` or a cgroup cpuset shrinks them), and a core with two hardware
 * threads counts once. Virtual machines can report absurd cache sizes (a
 * 480 MiB L3), so the sizes are clamped to ranges real CPUs have; when hwloc
 * fails the values are conservative defaults and from_hwloc is 0.
 */
#ifndef TCONV_RUNTIME_TOPOLOGY_H
#define TCONV_RUNTIME_TOPOLOGY_H

#include <stdint.h>

typedef struct tconv_topology {
    int64_t l1d_bytes; /* one core's L1 data cache */
    int64_t l2_bytes;  /* the L2 one core sees */
    int64_t l3_bytes;  /* the L3 one core sees (shared with its neighbours) */
    int cores;         /* physical cores in the process's affinity mask, >= 1 */
    int machine_cores; /* physical cores of the machine, whatever the mask */
    int pus;           /* hardware threads in it, >= cores */
    int from_hwloc;    /* 0: hwloc failed, the values above are defaults */
} tconv_topology;

/* The topology, loaded on first use (thread-safe); never NULL. */
const tconv_topology *tconv_topology_get(void);

/* Binds the calling thread to the allowed core number index % cores (all of
 * that core's hardware threads). 0 on success, -1 when binding is not
 * possible here (no hwloc topology, or the OS refused). */
int tconv_topology_bind_core(int index);

/* Hands hwloc's topology back, so that leak checkers see nothing of tconv's
 * left; the values of tconv_topology_get stay valid and binding fails from
 * then on. Called at exit by the thread pool's destructor once its workers
 * have stopped (runtime/threads.c): a worker starting up binds itself with
 * the topology, so it must not go away under one. */
void tconv_topology_release(void);

#endif /* TCONV_RUNTIME_TOPOLOGY_H */
