import CLibvirt
import Foundation

/// Process-wide libvirt set-up, done once before the first connection: thread-safe initialisation, silenced
/// default error printing (errors are reported as thrown `LibvirtError`s instead), and the default event loop
/// running on a dedicated thread so lifecycle events and keepalives are delivered.
enum LibvirtRuntime {
    private static let setUp: Void = {
        virInitialize()
        virSetErrorFunc(nil) { _, _ in }
        if virEventRegisterDefaultImpl() == 0 {
            let thread = Thread {
                while true {
                    if virEventRunDefaultImpl() < 0 {
                        virResetLastError()
                    }
                }
            }
            thread.name = "libvirt-event-loop"
            thread.start()
        }
    }()

    static func ensureStarted() {
        _ = setUp
    }
}
