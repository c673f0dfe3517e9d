#ifndef SNAPLAB_CZSTD_SHIM_H
#define SNAPLAB_CZSTD_SHIM_H

#include <stddef.h>
#include <zstd.h>

/// ZSTD_isError's result as a Swift-friendly bool.
static inline int snaplab_zstd_failed(size_t code) { return ZSTD_isError(code) ? 1 : 0; }

#endif
