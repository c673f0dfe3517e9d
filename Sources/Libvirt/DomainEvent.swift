import CLibvirt

/// One domain lifecycle event (`VIR_DOMAIN_EVENT_ID_LIFECYCLE`).
public struct DomainEvent: Sendable, Equatable, CustomStringConvertible {
    public let domainName: String
    public let domainUUID: String
    public let kind: Kind
    /// The event's detail code (e.g. for `.stopped`: 0 shutdown, 1 destroyed, 2 crashed…).
    public let detail: Int32

    public enum Kind: Int32, Sendable {
        case defined = 0, undefined, started, suspended, resumed, stopped, shutdown, pmSuspended, crashed
        case unknown = -1
    }

    public var description: String { "\(domainName) \(kind) (detail \(detail))" }
}

/// Holds the continuation that libvirt's C callback feeds. Owned by libvirt through the callback's opaque
/// pointer until libvirt calls the free callback after deregistration.
final class LifecycleSink: Sendable {
    let continuation: AsyncStream<DomainEvent>.Continuation

    init(_ continuation: AsyncStream<DomainEvent>.Continuation) {
        self.continuation = continuation
    }
}

extension Connection {
    /// Lifecycle events of every domain on this connection, delivered by the libvirt event loop thread.
    /// Ending the iteration (or dropping the stream) deregisters the callback.
    public func lifecycleEvents() throws(LibvirtError) -> AsyncStream<DomainEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: DomainEvent.self, bufferingPolicy: .unbounded)
        let sink = LifecycleSink(continuation)
        let opaque = Unmanaged.passRetained(sink).toOpaque()
        let callbackID = snaplab_register_lifecycle(
            pointer,
            { _, domain, event, detail, opaque in
                guard let domain, let opaque else { return }
                let sink = Unmanaged<LifecycleSink>.fromOpaque(opaque).takeUnretainedValue()
                let name = virDomainGetName(domain).map { String(cString: $0) } ?? ""
                var buffer = [CChar](repeating: 0, count: Int(VIR_UUID_STRING_BUFLEN))
                _ = virDomainGetUUIDString(domain, &buffer)
                let uuid = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                sink.continuation.yield(DomainEvent(domainName: name, domainUUID: uuid,
                                                    kind: DomainEvent.Kind(rawValue: event) ?? .unknown,
                                                    detail: detail))
            },
            opaque,
            { opaque in
                guard let opaque else { return }
                Unmanaged<LifecycleSink>.fromOpaque(opaque).release()
            })
        if callbackID < 0 {
            let error = LibvirtError.last("virConnectDomainEventRegisterAny")
            Unmanaged<LifecycleSink>.fromOpaque(opaque).release()
            continuation.finish()
            throw error
        }
        continuation.onTermination = { [self] _ in
            _ = virConnectDomainEventDeregisterAny(pointer, callbackID)
            virResetLastError()
        }
        return stream
    }
}
