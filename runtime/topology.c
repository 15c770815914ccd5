#include "runtime/topology.h"

#include <hwloc.h>
#include <pthread.h>
#include <stdlib.h>

/* Ranges real CPUs have (8 KiB L1d on old Atoms, 256 KiB on the largest
 * Arm cores; a 96 MiB V-Cache L3): anything outside is a virtual machine's
 * invention, and feeding it to a blocking model would be worse than a
 * typical value. */
#define L1_MIN (8 << 10)
#define L1_MAX (256 << 10)
#define L2_MIN (128 << 10)
#define L2_MAX (8 << 20)
#define L3_MAX (128LL << 20)

static tconv_topology topo = {32 << 10, 1 << 20, 8 << 20, 1, 1, 1, 0};
static hwloc_topology_t handle;
static hwloc_bitmap_t *core_sets; /* the allowed part of each allowed core */
static pthread_once_t once = PTHREAD_ONCE_INIT;

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* The size of the first cache of type t (data or unified) above PU 0 of
 * the allowed set, or 0 if the host reports none. */
static int64_t cache_size(hwloc_const_bitmap_t allowed, hwloc_obj_type_t t)
{
    const int pu = hwloc_bitmap_first(allowed);
    hwloc_obj_t obj = hwloc_get_pu_obj_by_os_index(handle, pu < 0 ? 0 : (unsigned)pu);
    for (; obj; obj = obj->parent)
        if (obj->type == t && obj->attr->cache.type != HWLOC_OBJ_CACHE_INSTRUCTION)
            return (int64_t)obj->attr->cache.size;
    return 0;
}

static void load(void)
{
    if (hwloc_topology_init(&handle) != 0) return;
    hwloc_bitmap_t allowed = hwloc_bitmap_alloc();
    if (!allowed || hwloc_topology_load(handle) != 0) goto fail;
    /* The process's affinity mask (taskset, cgroup cpusets), within the
     * CPUs the topology knows; if the OS will not say, every CPU. */
    if (hwloc_get_proc_cpubind(handle, 0, allowed, HWLOC_CPUBIND_PROCESS) != 0)
        hwloc_bitmap_copy(allowed, hwloc_topology_get_allowed_cpuset(handle));
    hwloc_bitmap_and(allowed, allowed, hwloc_topology_get_allowed_cpuset(handle));
    if (hwloc_bitmap_iszero(allowed)) goto fail;

    const int ncores = hwloc_get_nbobjs_by_type(handle, HWLOC_OBJ_CORE);
    core_sets = calloc(ncores > 0 ? (size_t)ncores : 1, sizeof *core_sets);
    if (!core_sets) goto fail;
    int cores = 0;
    for (int i = 0; i < ncores; i++) {
        hwloc_obj_t core = hwloc_get_obj_by_type(handle, HWLOC_OBJ_CORE, (unsigned)i);
        if (!core || !hwloc_bitmap_intersects(core->cpuset, allowed)) continue;
        hwloc_bitmap_t set = hwloc_bitmap_alloc();
        if (!set) continue;
        hwloc_bitmap_and(set, core->cpuset, allowed);
        core_sets[cores++] = set;
    }
    const int pus = hwloc_bitmap_weight(allowed);
    topo.cores = cores > 0 ? cores : (pus > 0 ? pus : 1);
    topo.machine_cores = ncores > topo.cores ? ncores : topo.cores;
    topo.pus = pus > topo.cores ? pus : topo.cores;
    const int64_t l1 = cache_size(allowed, HWLOC_OBJ_L1CACHE);
    const int64_t l2 = cache_size(allowed, HWLOC_OBJ_L2CACHE);
    const int64_t l3 = cache_size(allowed, HWLOC_OBJ_L3CACHE);
    if (l1) topo.l1d_bytes = clamp64(l1, L1_MIN, L1_MAX);
    if (l2) topo.l2_bytes = clamp64(l2, L2_MIN, L2_MAX);
    topo.l3_bytes = clamp64(l3, 0, L3_MAX);
    topo.from_hwloc = 1;
    if (cores == 0) { /* no core objects: bind by PU is not worth it */
        free(core_sets);
        core_sets = NULL;
    }
    hwloc_bitmap_free(allowed);
    return;
fail:
    hwloc_bitmap_free(allowed);
    hwloc_topology_destroy(handle);
    handle = NULL;
}

const tconv_topology *tconv_topology_get(void)
{
    pthread_once(&once, load);
    return &topo;
}

int tconv_topology_bind_core(int index)
{
    pthread_once(&once, load);
    if (!handle || !core_sets || index < 0) return -1;
    return hwloc_set_cpubind(handle, core_sets[index % topo.cores], HWLOC_CPUBIND_THREAD) == 0
               ? 0
               : -1;
}

/* Not a destructor of its own: the order of destructors across files is
 * unspecified, and one that ran before the pool's freed the topology under
 * a worker still binding itself (a crash in libhwloc at exit, now and then,
 * in programs that exit right after their first threaded pass). */
void tconv_topology_release(void)
{
    if (!handle) return;
    for (int i = 0; core_sets && i < topo.cores; i++) hwloc_bitmap_free(core_sets[i]);
    free(core_sets);
    core_sets = NULL;
    hwloc_topology_destroy(handle);
    handle = NULL;
}
