/* Preloaded into programs run by qemu-aarch64 (see install-deps-aarch64.sh):
 * execve() of an AArch64 ELF program becomes execve() of qemu-aarch64 with
 * that program, so it works without binfmt_misc. LD_PRELOAD and
 * LD_LIBRARY_PATH move from the environment (where they would also apply to
 * the x86-64 qemu) to qemu's -E options (where they apply to the guest). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef int execve_fn(const char *, char *const[], char *const[]);

static int is_aarch64_elf(const char *path)
{
    Elf64_Ehdr h;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    ssize_t n = read(fd, &h, sizeof h);
    close(fd);
    return n == (ssize_t)sizeof h && memcmp(h.e_ident, ELFMAG, SELFMAG) == 0 &&
           h.e_ident[EI_CLASS] == ELFCLASS64 && h.e_machine == EM_AARCH64;
}

int execve(const char *path, char *const argv[], char *const envp[])
{
    execve_fn *real = (execve_fn *)dlsym(RTLD_NEXT, "execve");
    if (!real) return -1;
    if (!is_aarch64_elf(path)) return real(path, argv, envp);
    /* Linux takes NULL for an empty argv or envp (glibc declares nonnull). */
    char *const *av = argv, *const *ev = envp;
    size_t argc = 0, envc = 0, a = 0, e = 0;
    while (av && av[argc]) argc++;
    while (ev && ev[envc]) envc++;
    char **nargv = malloc((argc + 2 * envc + 8) * sizeof *nargv);
    char **nenvp = malloc((envc + 1) * sizeof *nenvp);
    if (!nargv || !nenvp) return real(path, argv, envp);
    nargv[a++] = (char *)QEMU;
    nargv[a++] = (char *)"-L";
    nargv[a++] = (char *)QEMU_LD_PREFIX;
    for (size_t i = 0; i < envc; i++) {
        if (!strncmp(ev[i], "LD_PRELOAD=", 11) || !strncmp(ev[i], "LD_LIBRARY_PATH=", 16)) {
            nargv[a++] = (char *)"-E";
            nargv[a++] = ev[i];
        } else {
            nenvp[e++] = ev[i];
        }
    }
    nenvp[e] = NULL;
    nargv[a++] = (char *)"-0";
    nargv[a++] = argc ? av[0] : (char *)path;
    nargv[a++] = (char *)path;
    for (size_t i = 1; i < argc; i++) nargv[a++] = av[i];
    nargv[a] = NULL;
    int r = real(QEMU, nargv, nenvp);
    free(nargv);
    free(nenvp);
    return r;
}
