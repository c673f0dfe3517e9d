import CLibvirt
import Foundation
import Synchronization

/// One domain lifecycle event (`VIR_DOMAIN_EVENT_ID_LIFECYCLE`).
public struct DomainEvent: Sendable, Equatable, CustomStringConvertible {
    public let domainName: String
    public let domainUUID: String
    public let kind: Kind
    /// The event's detail code (e.g. for `.stopped`: 0 shutdown, 1 destroyed, 2 crashed…).
    public let detail: Int32

    public enum Kind: Int32, Sendable {
        case defined = 0
        case undefined, started, suspended, resumed, stopped, shutdown, pmSuspended, crashed
        case unknown = -1
    }

    public var description: String { "\(domainName) \(kind) (detail \(detail))" }
}

/// Fans libvirt's one lifecycle callback per connection out to any number of subscribers: libvirt refuses a
/// second registration of the same callback on a connection.
final class LifecycleBroadcaster: Sendable {
    private let subscribers = Mutex<[UUID: AsyncStream<DomainEvent>.Continuation]>([:])
    let callbackID = Mutex<Int32?>(nil)

    func publish(_ event: DomainEvent) {
        for continuation in subscribers.withLock({ Array($0.values) }) { continuation.yield(event) }
    }

    func subscribe() -> AsyncStream<DomainEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: DomainEvent.self, bufferingPolicy: .unbounded)
        let id = UUID()
        subscribers.withLock { $0[id] = continuation }
        continuation.onTermination = { [weak self] _ in
            _ = self?.subscribers.withLock { $0.removeValue(forKey: id) }
        }
        return stream
    }

    func finishAll() {
        for continuation in subscribers.withLock({ Array($0.values) }) { continuation.finish() }
    }
}

extension Connection {
    /// Lifecycle events of every domain on this connection, delivered by the libvirt event loop thread.
    /// Each call gives an independent stream; ending its iteration (or dropping it) unsubscribes.
    public func lifecycleEvents() throws(LibvirtError) -> AsyncStream<DomainEvent> {
        try registerLifecycleCallbackIfNeeded()
        return broadcaster.subscribe()
    }

    private func registerLifecycleCallbackIfNeeded() throws(LibvirtError) {
        try registration.withLock { (registered: inout Bool) throws(LibvirtError) in
            guard !registered else { return }
            let opaque = Unmanaged.passRetained(broadcaster).toOpaque()
            let callbackID = snaplab_register_lifecycle(
                pointer,
                { _, domain, event, detail, opaque in
                    guard let domain, let opaque else { return }
                    let broadcaster = Unmanaged<LifecycleBroadcaster>.fromOpaque(opaque).takeUnretainedValue()
                    let name = virDomainGetName(domain).map { String(cString: $0) } ?? ""
                    var buffer = [CChar](repeating: 0, count: Int(VIR_UUID_STRING_BUFLEN))
                    _ = virDomainGetUUIDString(domain, &buffer)
                    let uuid = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                    broadcaster.publish(
                        DomainEvent(
                            domainName: name, domainUUID: uuid,
                            kind: DomainEvent.Kind(rawValue: event) ?? .unknown,
                            detail: detail))
                },
                opaque,
                { opaque in
                    guard let opaque else { return }
                    Unmanaged<LifecycleBroadcaster>.fromOpaque(opaque).release()
                })
            if callbackID < 0 {
                let error = LibvirtError.last("virConnectDomainEventRegisterAny")
                Unmanaged<LifecycleBroadcaster>.fromOpaque(opaque).release()
                throw error
            }
            broadcaster.callbackID.withLock { $0 = callbackID }
            registered = true
        }
    }

    /// Called from deinit: the registered callback holds a reference on the connection inside libvirt.
    func deregisterLifecycleCallback() {
        guard let callbackID = broadcaster.callbackID.withLock({ $0 }) else { return }
        _ = virConnectDomainEventDeregisterAny(pointer, callbackID)
        virResetLastError()
        broadcaster.finishAll()
    }
}
