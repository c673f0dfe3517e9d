import ArgumentParser
import Foundation
import SnaplabCore

extension SnapshotLockMode: ExpressibleByArgument {}

extension SnapshotCommand {
    struct Lock: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Lock a snapshot against deletion and pruning until a date (EBS snapshot lock).",
            discussion: """
                governance: `snapshot unlock` lifts it, and it can be changed. compliance: nobody can delete the \
                snapshot before the lock ends; during --cool-off-hours (1–72) it can still be lifted or changed, \
                afterwards only extended. Locking again changes the lock as far as it allows.
                """)

        @OptionGroup var lab: LabOptions
        @Argument(help: "The snapshot id (snap-…).") var id: String
        @Option(help: "governance or compliance.") var mode: SnapshotLockMode
        @Option(help: "Days from now (1–36500).") var days: Int?
        @Option(help: "Until this ISO 8601 date or time instead of --days.") var until: String?
        @Option(help: "Compliance only: hours (1–72) during which the lock can still be lifted or changed.")
        var coolOffHours: Int?
        @Option var output: OutputFormat = .table

        func validate() throws {
            guard (days == nil) != (until == nil) else { throw ValidationError("give --days or --until, one of them") }
            if let until, Self.date(until) == nil {
                throw ValidationError(
                    "--until \(until) is not an ISO 8601 date or time (2027-06-30 or 2027-06-30T12:00:00Z)")
            }
        }

        func run() async throws {
            let duration: SnapshotLockRequest.Duration =
                if let days { .days(days) } else { .until(Self.date(until ?? "")!) }
            let snapshot = try await lab.openLab().snapshots.lock(
                id, SnapshotLockRequest(mode: mode, duration: duration, coolOffHours: coolOffHours))
            if output == .json { return try Printer.json(snapshot) }
            print(SnapshotCommand.describeLock(snapshot))
        }

        static func date(_ text: String) -> Date? {
            if let date = ISO8601DateFormatter().date(from: text) { return date }
            let day = ISO8601DateFormatter()
            day.formatOptions = [.withFullDate]
            return day.date(from: text)
        }
    }

    struct Unlock: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Lift a governance lock, or a compliance lock still in its cool-off.")
        @OptionGroup var lab: LabOptions
        @Argument(help: "The snapshot id (snap-…).") var id: String

        func run() async throws {
            _ = try await lab.openLab().snapshots.unlock(id)
            print("unlocked \(id)")
        }
    }

    struct Recover: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Take a deleted snapshot back out of the recycle bin (EBS RestoreSnapshotFromRecycleBin).")
        @OptionGroup var lab: LabOptions
        @Argument(help: "The snapshot id (snap-…), as `snapshot list --recycle-bin` shows it.") var id: String

        func run() async throws {
            let snapshot = try await lab.openLab().snapshots.recover(id)
            print(
                "recovered \(snapshot.id) (volume \(snapshot.volumeId), taken \(ISO8601DateFormatter().string(from: snapshot.createdAt)))"
            )
        }
    }

    static func describeLock(_ snapshot: Snapshot, now: Date = Date()) -> String {
        guard let lock = snapshot.lock else { return "\(snapshot.id): not locked" }
        let format = ISO8601DateFormatter()
        let coolOff = lock.coolOffEndsAt.map { ", cool-off until \(format.string(from: $0))" } ?? ""
        return
            "\(snapshot.id): \(lock.state(at: now).rawValue) lock until \(format.string(from: lock.expiresAt))\(coolOff)"
    }
}
