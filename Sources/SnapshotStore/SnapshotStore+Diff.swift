import Blocking

extension SnapshotStore {
    /// The runs of chunk numbers whose contents differ between two snapshots of the same chunk size, from their
    /// chunk tables read side by side (EBS ListChangedBlocks).
    public func changedChunks(_ first: Manifest, _ second: Manifest) async throws(StoreError) -> [Range<UInt32>] {
        let io = ThreadIO(backend: backend)
        return try await BlockingPool.run { () throws(StoreError) -> [Range<UInt32>] in
            let a = ChunkTableReader(first, io: io)
            let b = ChunkTableReader(second, io: io)
            var runs: [Range<UInt32>] = []
            func changed(_ index: UInt32) {
                if let last = runs.last, last.upperBound == index {
                    runs[runs.count - 1] = last.lowerBound..<(index + 1)
                } else {
                    runs.append(index..<(index + 1))
                }
            }
            var x = try a.next()
            var y = try b.next()
            while x != nil || y != nil {
                if let (i, h) = x, let (j, g) = y, i == j {
                    if h != g { changed(i) }
                    x = try a.next()
                    y = try b.next()
                } else if let (i, _) = x, y == nil || i < y?.0 ?? 0 {
                    changed(i)
                    x = try a.next()
                } else if let (j, _) = y {
                    changed(j)
                    y = try b.next()
                }
            }
            return runs
        }
    }
}
