#ifndef SNAPLAB_CNBD_SHIM_H
#define SNAPLAB_CNBD_SHIM_H

#include <stddef.h>
#include <stdint.h>
#include <libnbd.h>

#endif
