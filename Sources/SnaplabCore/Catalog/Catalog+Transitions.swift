import GRDB

/// A resource's states and the moves allowed between them, as one table.
public protocol StateMachine: RawRepresentable<String>, Hashable, Sendable {
    /// What each state may become; a state missing from the table is final.
    static var moves: [Self: Set<Self>] { get }
}

extension StateMachine {
    public func canMove(to next: Self) -> Bool { Self.moves[self]?.contains(next) ?? false }
}

/// A catalog row with a state machine.
protocol StatefulRecord: FetchableRecord, MutablePersistableRecord, Sendable {
    associatedtype State: StateMachine
    /// How errors name the resource ("snapshot", "image", …).
    static var resourceName: String { get }
    /// How errors name this row.
    var recordName: String { get }
    var state: State { get set }
}

extension StatefulRecord {
    /// A checked move inside a write that changes more than this row; staying in the same state is no move.
    mutating func move(to next: State) throws(SnaplabError) {
        if state == next { return }
        try Catalog.check(state, to: next, of: Self.resourceName, recordName)
        state = next
    }
}

extension Catalog {
    /// The one place a resource's state changes. The row is re-read inside the write and the move checked
    /// against its table; only `change` is applied to the stored row, so what others wrote meanwhile (a tag, a
    /// pin) stays. Moving to the state it already has succeeds only when `idempotent`.
    @discardableResult
    func transition<Record: StatefulRecord>(
        _ type: Record.Type, _ key: some DatabaseValueConvertible & Sendable, to next: Record.State,
        idempotent: Bool = false, _ change: @Sendable @escaping (inout Record) -> Void = { _ in }
    ) async throws(SnaplabError) -> Record {
        try await write { db in
            guard var record = try Record.fetchOne(db, key: key) else {
                throw SnaplabError(.notFound, "\(Record.resourceName) \(key) does not exist (any more)")
            }
            if idempotent && record.state == next { return record }
            try Self.check(record.state, to: next, of: Record.resourceName, key)
            record.state = next
            change(&record)
            try record.update(db)
            return record
        }
    }

    /// Checks one move against the table; for writes that change a state inside a larger transaction.
    static func check<State: StateMachine>(_ state: State, to next: State, of resource: String, _ key: some Sendable)
        throws(SnaplabError)
    {
        guard state.canMove(to: next) else {
            throw SnaplabError(
                .invalidState, "\(resource) \(key) is \(state.rawValue) and cannot become \(next.rawValue)",
                subject: "\(key)")
        }
    }
}

extension SnapshotState: StateMachine {
    public static let moves: [SnapshotState: Set<SnapshotState>] = [
        .pending: [.completed, .error]
    ]
}

extension ImageState: StateMachine {
    public static let moves: [ImageState: Set<ImageState>] = [
        .pending: [.available, .failed],
        .available: [.deregistered],
        .failed: [.deregistered],
    ]
}

extension PolicyRun.State: StateMachine {
    public static let moves: [PolicyRun.State: Set<PolicyRun.State>] = [
        .running: [.succeeded, .failed, .interrupted],
        // A retried slot runs again in the row of its interrupted attempt.
        .interrupted: [.running],
    ]
}

extension VolumeState: StateMachine {
    public static let moves: [VolumeState: Set<VolumeState>] = [
        .creating: [.available, .inUse, .error, .deleting],
        .available: [.inUse, .deleting],
        .inUse: [.available, .deleting],
        .error: [.deleting],
    ]
}

extension InstanceState: StateMachine {
    public static let moves: [InstanceState: Set<InstanceState>] = [
        .pending: [.running, .stopping, .stopped, .shuttingDown],
        .running: [.stopping, .stopped, .shuttingDown],
        .stopping: [.stopped, .shuttingDown],
        .stopped: [.pending, .running, .shuttingDown],
        .shuttingDown: [.terminated],
    ]
}

extension Snapshot: StatefulRecord {
    static let resourceName = "snapshot"
    var recordName: String { id }
}

extension MachineImage: StatefulRecord {
    static let resourceName = "image"
    var recordName: String { id }
}

extension PolicyRun: StatefulRecord {
    static let resourceName = "policy run"
    var recordName: String { "of \(policyId) for \(slot)" }
}

extension Volume: StatefulRecord {
    static let resourceName = "volume"
    var recordName: String { id }
}

extension Instance: StatefulRecord {
    static let resourceName = "instance"
    var recordName: String { id }
}

/// A catalog row with user tags.
protocol TaggedRecord: StatefulRecord {
    var tags: [String: String] { get set }
}

extension Volume: TaggedRecord {}
extension Snapshot: TaggedRecord {}
extension MachineImage: TaggedRecord {}
extension Instance: TaggedRecord {}

extension Catalog {
    /// Changes some columns of one row and writes only those, re-read inside one write: what others changed
    /// meanwhile (a state, a tag) stays.
    @discardableResult
    func updateColumns<Record: StatefulRecord>(
        _ type: Record.Type, _ id: String, _ change: @Sendable @escaping (inout Record) -> Void
    ) async throws(SnaplabError) -> Record {
        try await write { db in
            guard var record = try Record.fetchOne(db, key: id) else {
                let name = Record.resourceName
                throw SnaplabError.notFound(name, id, hint: "`snaplab \(name) list` shows the \(name)s")
            }
            try record.updateChanges(db) { change(&$0) }
            return record
        }
    }

    /// Rewrites one row's tags column only.
    func updateTags<Record: TaggedRecord>(
        _ type: Record.Type, _ id: String, _ change: @Sendable @escaping (inout [String: String]) -> Void
    ) async throws(SnaplabError) {
        try await updateColumns(type, id) { change(&$0.tags) }
    }

    /// Pins or unpins a snapshot, changing that column only.
    func setPinned(_ id: String, _ pinned: Bool) async throws(SnaplabError) -> Snapshot {
        try await updateColumns(Snapshot.self, id) { $0.pinned = pinned }
    }
}
