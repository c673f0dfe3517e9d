#ifndef SNAPLAB_CMALLOC_SHIM_H
#define SNAPLAB_CMALLOC_SHIM_H

#include <malloc.h>

/// glibc's mallopt, which Swift's Glibc module does not export.
static inline void snaplab_tune_malloc(int mmap_threshold, int arena_max) {
    mallopt(M_MMAP_THRESHOLD, mmap_threshold);
    mallopt(M_ARENA_MAX, arena_max);
}

#endif
