/*
 * The host fingerprint (see fingerprint.h). Built once, with pthread_once,
 * from CPUID or MIDR_EL1 and the hwloc topology.
 */
#include "tune/fingerprint.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "runtime/error.h"
#include "runtime/topology.h"
#include "tconv.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define TCONV_FP_X86 1
#elif defined(__aarch64__)
#define TCONV_FP_ARM64 1
#if defined(__linux__)
#include <sys/auxv.h>
#endif
#endif

static char fingerprint[TCONV_FINGERPRINT_MAX + 1];
static char cpu[64];
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* Anything the cache file cannot hold in a header line (control bytes,
 * '|', spaces inside one word) becomes '_'. */
static void sanitize_word(char *s)
{
    for (; *s; s++)
        if (*s <= ' ' || *s > '~' || *s == '|') *s = '_';
}

#if TCONV_FP_X86
/* "GenuineIntel 6-85-7": the vendor string of leaf 0 and the display family,
 * model and stepping of leaf 1, with the extended fields folded in as the
 * Intel and AMD manuals define them. */
static void cpu_identity(char *out, size_t n)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(0, &a, &b, &c, &d)) {
        snprintf(out, n, "unknown");
        return;
    }
    char vendor[13];
    memcpy(vendor, &b, 4);
    memcpy(vendor + 4, &d, 4);
    memcpy(vendor + 8, &c, 4);
    vendor[12] = '\0';
    sanitize_word(vendor);
    if (!__get_cpuid(1, &a, &b, &c, &d)) {
        snprintf(out, n, "%s", vendor);
        return;
    }
    const unsigned stepping = a & 0xf, base_model = (a >> 4) & 0xf, base_family = (a >> 8) & 0xf;
    const unsigned ext_model = (a >> 16) & 0xf, ext_family = (a >> 20) & 0xff;
    const unsigned family = base_family == 0xf ? base_family + ext_family : base_family;
    const unsigned model =
        base_family == 0x6 || base_family == 0xf ? (ext_model << 4) | base_model : base_model;
    snprintf(out, n, "%s %u-%u-%u", vendor, family, model, stepping);
}
#elif TCONV_FP_ARM64
/* MIDR_EL1 from sysfs (no trap), else by MRS when the kernel advertises that
 * it emulates ID register reads (HWCAP_CPUID; qemu-user does too); 0 when
 * neither works. */
static uint64_t read_midr(void)
{
    uint64_t midr = 0;
    FILE *f = fopen("/sys/devices/system/cpu/cpu0/regs/identification/midr_el1", "r");
    if (f) {
        unsigned long long v;
        if (fscanf(f, "%llx", &v) == 1) midr = v;
        fclose(f);
    }
#if defined(__linux__) && defined(HWCAP_CPUID)
    if (!midr && (getauxval(AT_HWCAP) & HWCAP_CPUID)) __asm__ volatile("mrs %0, MIDR_EL1" : "=r"(midr));
#endif
    return midr;
}

/* The implementer byte of MIDR_EL1 as a vendor name (the Arm ARM's list of
 * implementer codes, the ones that make server and desktop cores). */
static const char *implementer_name(unsigned code)
{
    switch (code) {
    case 0x41: return "ARM";
    case 0x42: return "Broadcom";
    case 0x43: return "Cavium";
    case 0x46: return "Fujitsu";
    case 0x48: return "HiSilicon";
    case 0x4e: return "NVIDIA";
    case 0x50: return "AppliedMicro";
    case 0x51: return "Qualcomm";
    case 0x61: return "Apple";
    case 0x6d: return "Microsoft";
    case 0xc0: return "Ampere";
    }
    return NULL;
}

static void cpu_identity(char *out, size_t n)
{
    const uint64_t midr = read_midr();
    if (!midr) {
        snprintf(out, n, "unknown");
        return;
    }
    const unsigned implementer = (unsigned)(midr >> 24) & 0xff;
    const char *name = implementer_name(implementer);
    if (name)
        snprintf(out, n, "%s midr=0x%08x", name, (unsigned)(midr & 0xffffffffu));
    else
        snprintf(out, n, "implementer-0x%02x midr=0x%08x", implementer,
                 (unsigned)(midr & 0xffffffffu));
}
#else
static void cpu_identity(char *out, size_t n) { snprintf(out, n, "unknown"); }
#endif

static void build(void)
{
    cpu_identity(cpu, sizeof cpu);
    const tconv_topology *t = tconv_topology_get();
    snprintf(fingerprint, sizeof fingerprint, "%s %s l1d=%lldK l2=%lldK l3=%lldK cores=%d", cpu,
             tconv_isa_name(tconv_cpu_isa()), (long long)(t->l1d_bytes >> 10),
             (long long)(t->l2_bytes >> 10), (long long)(t->l3_bytes >> 10), t->machine_cores);
}

const char *tconv_host_fingerprint(void)
{
    pthread_once(&once, build);
    return fingerprint;
}

tconv_status tconv_host_query(tconv_host_info *info)
{
    if (!info) return tconv_fail(TCONV_EINVAL, "info is NULL");
    pthread_once(&once, build);
    const tconv_topology *t = tconv_topology_get();
    *info = (tconv_host_info){.fingerprint = fingerprint,
                              .cpu = cpu,
                              .isa = tconv_cpu_isa(),
                              .l1d_bytes = t->l1d_bytes,
                              .l2_bytes = t->l2_bytes,
                              .l3_bytes = t->l3_bytes,
                              .cores = t->cores,
                              .machine_cores = t->machine_cores,
                              .pus = t->pus,
                              .from_hwloc = t->from_hwloc};
    return TCONV_OK;
}
