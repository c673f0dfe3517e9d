/// EC2's instance states, and the only transitions between them.
public enum InstanceState: String, Codable, Sendable, CaseIterable {
    case pending
    case running
    case stopping
    case stopped
    case shuttingDown = "shutting-down"
    case terminated

    /// States from which `self` may be entered.
    private var allowedPredecessors: Set<InstanceState> {
        switch self {
        case .pending: [.stopped]
        case .running: [.pending, .stopped]
        case .stopping: [.running, .pending]
        case .stopped: [.pending, .running, .stopping]
        case .shuttingDown: [.pending, .running, .stopping, .stopped]
        case .terminated: [.shuttingDown]
        }
    }

    public func canMove(to next: InstanceState) -> Bool {
        next.allowedPredecessors.contains(self)
    }

    /// Whether the instance still holds its volumes and a libvirt definition.
    public var isLive: Bool { self != .terminated }
}

extension InstanceState {
    func checkTransition(to next: InstanceState, instance id: String) throws(SnaplabError) {
        guard canMove(to: next) else {
            throw SnaplabError(.invalidState,
                               "instance \(id) is \(rawValue) and cannot become \(next.rawValue)", subject: id)
        }
    }
}
