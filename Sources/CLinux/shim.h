#ifndef SNAPLAB_CLINUX_SHIM_H
#define SNAPLAB_CLINUX_SHIM_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <malloc.h>

/// glibc's mallopt, which Swift's Glibc module does not export.
static inline void snaplab_tune_malloc(int mmap_threshold, int arena_max) {
    mallopt(M_MMAP_THRESHOLD, mmap_threshold);
    mallopt(M_ARENA_MAX, arena_max);
}

/// O_DIRECT, whose value differs between architectures and which Swift's Glibc module does not export.
static inline int snaplab_o_direct(void) { return O_DIRECT; }

#endif
