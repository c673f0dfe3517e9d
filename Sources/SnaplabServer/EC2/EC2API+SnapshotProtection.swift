import Foundation
import SnaplabCore

/// EBS snapshot lock and Recycle Bin actions.
extension EC2API {
    func lockSnapshot(_ parameters: EC2Parameters) async throws(EC2Error) -> [XMLElement] {
        let id = try parameters.required("SnapshotId")
        let modeText = try parameters.required("LockMode")
        guard let mode = SnapshotLockMode(rawValue: modeText) else {
            throw EC2Error(code: "InvalidParameterValue", message: "LockMode must be governance or compliance")
        }
        let days = try parameters.int("LockDuration")
        let expiration = try parameters["ExpirationDate"].map { text throws(EC2Error) -> Date in
            guard let date = Self.parseTimestamp(text) else {
                throw EC2Error(
                    code: "InvalidParameterValue", message: "ExpirationDate '\(text)' is not an ISO 8601 time")
            }
            return date
        }
        let duration: SnapshotLockRequest.Duration
        switch (days, expiration) {
        case (let days?, nil): duration = .days(days)
        case (nil, let date?): duration = .until(date)
        default:
            throw EC2Error(
                code: "InvalidParameterCombination", message: "Specify exactly one of LockDuration and ExpirationDate")
        }
        let request = SnapshotLockRequest(
            mode: mode, duration: duration, coolOffHours: try parameters.int("CoolOffPeriod"))
        let snapshot = try await call { () async throws(SnaplabError) in try await lab.snapshots.lock(id, request) }
        return Self.lockFields(snapshot, now: Date()).map { XMLElement($0.name.lowercasedFirst, $0.text) }
    }

    func unlockSnapshot(_ parameters: EC2Parameters) async throws(EC2Error) -> [XMLElement] {
        let id = try parameters.required("SnapshotId")
        _ = try await call { () async throws(SnaplabError) in try await lab.snapshots.unlock(id) }
        return [XMLElement("snapshotId", id)]
    }

    func describeLockedSnapshots(_ parameters: EC2Parameters) async throws(EC2Error) -> [XMLElement] {
        let ids = Set(parameters.list("SnapshotId"))
        let now = Date()
        let locked = try await call { () async throws(SnaplabError) in
            try await lab.snapshots.locked(includeExpired: true, at: now)
        }
        let chosen = try EC2Filtering.apply(
            locked.filter { ids.isEmpty || ids.contains($0.id) }, parameters.filters, tags: \.tags,
            fields: { snapshot, name in name == "lock-state" ? snapshot.lock.map { [$0.state(at: now).rawValue] } : nil
            })
        let (page, next) = try EC2Filtering.page(chosen, parameters: parameters)
        return [
            XMLElement.set(
                "snapshotSet",
                page.map { snapshot in
                    [XMLElement("ownerId", Self.owner)]
                        + Self.lockFields(snapshot, now: now).map { XMLElement($0.name.lowercasedFirst, $0.text) }
                })
        ] + (next.map { [XMLElement("nextToken", $0)] } ?? [])
    }

    func listSnapshotsInRecycleBin(_ parameters: EC2Parameters) async throws(EC2Error) -> [XMLElement] {
        let ids = Set(parameters.list("SnapshotId"))
        let bin = try await call { () async throws(SnaplabError) in try await lab.snapshots.recycleBin() }
        let (page, next) = try EC2Filtering.page(
            bin.filter { ids.isEmpty || ids.contains($0.snapshot.id) }, parameters: parameters)
        return [
            XMLElement.set(
                "snapshotSet",
                page.map { entry in
                    [
                        XMLElement("snapshotId", entry.snapshot.id),
                        XMLElement("recycleBinEnterTime", XMLElement.timestamp(entry.deletedAt)),
                        XMLElement("recycleBinExitTime", XMLElement.timestamp(entry.retainUntil)),
                        XMLElement("description", entry.snapshot.description ?? ""),
                        XMLElement("volumeId", entry.snapshot.volumeId),
                    ]
                })
        ] + (next.map { [XMLElement("nextToken", $0)] } ?? [])
    }

    func restoreSnapshotFromRecycleBin(_ parameters: EC2Parameters) async throws(EC2Error) -> [XMLElement] {
        let id = try parameters.required("SnapshotId")
        let snapshot = try await call { () async throws(SnaplabError) in try await lab.snapshots.recover(id) }
        return Self.snapshotFields(snapshot, encrypted: await storeIsEncrypted())
    }

    /// `GetEbsEncryptionByDefault`: whether the lab's snapshots are encrypted (its store is). Enable and Disable
    /// answer the same when they ask for what is already so; the choice is made when the store is made.
    func ebsEncryptionByDefault(_ parameters: EC2Parameters, wanted: Bool?) async throws(EC2Error) -> [XMLElement] {
        let store = try await call { () async throws(SnaplabError) in try await lab.store.open() }
        if let wanted, wanted != store.isEncrypted {
            throw EC2Error(
                code: "UnsupportedOperation",
                message:
                    "the lab's store is \(store.isEncrypted ? "encrypted" : "plain"): encryption is chosen when a store is made (`snaplab host init --encrypt` on a new store, or `snaplab store copy --to NEW --encrypt`)"
            )
        }
        return [XMLElement("ebsEncryptionByDefault", store.isEncrypted ? "true" : "false")]
    }

    /// LockSnapshot's answer and DescribeLockedSnapshots' items, in the model's member names.
    static func lockFields(_ snapshot: Snapshot, now: Date) -> [(name: String, text: String)] {
        guard let lock = snapshot.lock else { return [("SnapshotId", snapshot.id)] }
        var fields: [(name: String, text: String)] = [
            ("SnapshotId", snapshot.id), ("LockState", lock.state(at: now).rawValue),
            ("LockDuration", String(Int((lock.expiresAt.timeIntervalSince(lock.lockedAt) / 86_400).rounded(.up)))),
            ("LockCreatedOn", XMLElement.timestamp(lock.lockedAt)),
            ("LockDurationStartTime", XMLElement.timestamp(lock.lockedAt)),
            ("LockExpiresOn", XMLElement.timestamp(lock.expiresAt)),
        ]
        if let coolOff = lock.coolOffEndsAt {
            fields.append(("CoolOffPeriod", String(Int((coolOff.timeIntervalSince(lock.lockedAt) / 3600).rounded()))))
            fields.append(("CoolOffPeriodExpiresOn", XMLElement.timestamp(coolOff)))
        }
        return fields
    }

    static func parseTimestamp(_ text: String) -> Date? {
        let precise = ISO8601DateFormatter()
        precise.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return precise.date(from: text) ?? ISO8601DateFormatter().date(from: text)
    }
}

extension String {
    fileprivate var lowercasedFirst: String { prefix(1).lowercased() + dropFirst() }
}
