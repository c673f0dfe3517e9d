import Foundation

extension Snapshot {
    /// The same object `JSONEncoder` (`.sortedKeys`, `.iso8601`) makes of a snapshot, written by hand for long
    /// listings; `SnapshotJSONTests` holds the two to the same output.
    public func writeJSON(into json: inout JSONWriter) {
        json.beginObject()
        json.key("allocatedBytes")
        json.number(allocatedBytes)
        if let boot {
            json.key("boot")
            json.beginObject()
            json.key("cmdline")
            json.string(boot.cmdline)
            if let firmware = boot.firmware {
                json.key("firmware")
                json.string(firmware.rawValue)
            }
            json.key("initrd")
            json.string(boot.initrd)
            json.key("kernel")
            json.string(boot.kernel)
            json.endObject()
        }
        json.key("bytesChanged")
        json.number(bytesChanged)
        json.key("bytesRead")
        json.number(bytesRead)
        json.key("bytesStored")
        json.number(bytesStored)
        optional("checkpoint", checkpoint, &json)
        if let completedAt {
            json.key("completedAt")
            json.date(completedAt)
        }
        optional("consistency", consistency?.rawValue, &json)
        optional("consistencyNote", consistencyNote, &json)
        json.key("createdAt")
        json.date(createdAt)
        optional("description", description, &json)
        optional("errorMessage", errorMessage, &json)
        json.key("id")
        json.string(id)
        json.key("incremental")
        json.bool(incremental)
        optional("instanceId", instanceId, &json)
        if let lock {
            json.key("lock")
            json.beginObject()
            if let coolOffEndsAt = lock.coolOffEndsAt {
                json.key("coolOffEndsAt")
                json.date(coolOffEndsAt)
            }
            json.key("expiresAt")
            json.date(lock.expiresAt)
            json.key("lockedAt")
            json.date(lock.lockedAt)
            json.key("mode")
            json.string(lock.mode.rawValue)
            json.endObject()
        }
        optional("parentId", parentId, &json)
        json.key("pinned")
        json.bool(pinned)
        json.key("progress")
        json.number(progress)
        optional("setId", setId, &json)
        json.key("state")
        json.string(state.rawValue)
        json.key("tags")
        json.stringMap(tags)
        json.key("volumeId")
        json.string(volumeId)
        json.key("volumeRole")
        json.string(volumeRole.rawValue)
        json.key("volumeSize")
        json.number(volumeSize)
        if let workerPid {
            json.key("workerPid")
            json.number(Int64(workerPid))
        }
        if let workerStartTime {
            json.key("workerStartTime")
            json.number(workerStartTime)
        }
        json.endObject()
    }

    private func optional(_ key: StaticString, _ value: String?, _ json: inout JSONWriter) {
        guard let value else { return }
        json.key(key)
        json.string(value)
    }

    /// `[` snapshot per line `]`.
    public static func jsonArray(_ snapshots: [Snapshot]) -> [UInt8] {
        var json = JSONWriter(capacity: snapshots.count * 700 + 16)
        json.beginArray()
        for snapshot in snapshots {
            json.newline()
            snapshot.writeJSON(into: &json)
        }
        json.raw("\n")
        json.endArray()
        return json.bytes
    }
}
