extension ImageService {
    /// Settles the images a process left `pending` when it ended before their snapshots did (`CreateImage` in
    /// flight at a restart): once none of their snapshots is still being copied, each becomes `available` or
    /// `failed` with the snapshot that failed, instead of pinning its snapshots forever.
    func recoverPending() async throws(SnaplabError) {
        for image in try await catalog.images() where image.state == .pending {
            var snapshots: [Snapshot] = []
            var stillCopying = false
            for id in image.snapshotIds {
                guard let snapshot = try await catalog.findSnapshot(id) else {
                    snapshots.append(Snapshot(id: id, volumeId: "?", volumeRole: .data, volumeSize: 0, state: .error))
                    continue
                }
                stillCopying = stillCopying || snapshot.state == .pending
                snapshots.append(snapshot)
            }
            if stillCopying { continue }
            let settled = await complete(image, from: snapshots)
            logger.notice(
                "settled an image left pending", metadata: ["image": "\(image.id)", "state": "\(settled.state)"])
        }
    }
}
