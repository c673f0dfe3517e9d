#ifndef SNAPLAB_CLIBVIRT_SHIM_H
#define SNAPLAB_CLIBVIRT_SHIM_H

#include <stddef.h>
#include <stdlib.h>
#include <libvirt/libvirt.h>
#include <libvirt/libvirt-qemu.h>
#include <libvirt/virterror.h>

/// The lifecycle callback's real signature; libvirt's register call takes it cast to a generic callback,
/// a cast Swift cannot spell, so it happens here.
typedef void (*snaplab_lifecycle_callback)(virConnectPtr conn, virDomainPtr dom, int event, int detail,
                                           void *opaque);

static inline int snaplab_register_lifecycle(virConnectPtr conn, snaplab_lifecycle_callback callback,
                                             void *opaque, virFreeCallback free_opaque) {
    return virConnectDomainEventRegisterAny(conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                            VIR_DOMAIN_EVENT_CALLBACK(callback), opaque, free_opaque);
}

#endif
