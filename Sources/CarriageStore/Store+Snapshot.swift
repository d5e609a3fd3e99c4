/// Copying the store out to a snapshot, and back in at start.
extension Store {
    /// Where a snapshot export has got to: a shard and a bucket of its index.
    public struct SnapshotCursor: Equatable, Sendable {
        var shard = 0
        var bucket = 0

        /// The start of a snapshot.
        public init() {}
    }

    /// Bytes one slice adds to the buffer, about: what a shard's lock is held for.
    public static let snapshotSliceBytes = 128 << 10
    /// Index buckets one slice looks at, at most, so that a sparse index holds the lock
    /// no longer than a full one.
    static let snapshotSliceBuckets = 4096

    /// Appends the next slice of live items to `buffer` as ``SnapshotRecord``s, holding one
    /// shard's lock for at most a bounded slice (about ``snapshotSliceBytes``, or one index
    /// bucket's items if they are more), and advances `cursor`. Expiries are written in unix seconds, from
    /// `unixNow`.
    ///
    /// - Returns: the records appended (0 when the buffer, not empty, has no room for the
    ///   next bucket's items: empty it and call again), or nil once every shard is done.
    ///
    /// Writes go on meanwhile: an item live and unchanged throughout the export is in it
    /// (possibly twice: the later record wins at load); one written during it may be in it
    /// with either value, or not at all if it was created after its bucket was passed.
    public func exportSnapshot(from cursor: inout SnapshotCursor, into buffer: inout [UInt8], unixNow: Int) -> Int? {
        var records = 0
        while cursor.shard < shards.count {
            let room = buffer.capacity - buffer.count
            let target = buffer.count + min(room, Self.snapshotSliceBytes)
            let start = cursor.bucket
            let step = shards[cursor.shard].withLock { storage in
                storage.export(from: start, into: &buffer, records: &records, byteTarget: target,
                               bucketLimit: Self.snapshotSliceBuckets, unixNow: unixNow)
            }
            switch step {
            case .more(let next):
                cursor.bucket = next
                return records
            case .done:
                cursor.shard += 1
                cursor.bucket = 0
                return records
            case .needsCapacity(let count):
                // Outside the lock; the same bucket again.
                buffer.reserveCapacity(buffer.count + count)
            }
        }
        return nil
    }

    /// Stores a snapshot's item as it was: value, flags, marks, expiry and CAS unique.
    /// Returns false for an item whose expiry has passed (`unixNow` or earlier): it is
    /// skipped. Call ``finishRestore(maxCAS:)`` after the last one.
    /// - Throws: `StoreError.outOfMemory` when the bound has no room (under `.none`).
    @discardableResult
    public func restore(_ record: SnapshotRecord, unixNow: Int) throws(StoreError) -> Bool {
        var expiry = StoreExpiry.never
        if record.unixExpiry != 0 {
            let left = record.unixExpiry - Int64(unixNow)
            guard left > 0 else { return false }
            expiry = .afterSeconds(left)
        }
        let key = StoreKey(borrowing: record.key)
        try run(on: shard(for: key)) { $0.restore(key, record: record, expiry: expiry) }
        return true
    }

    /// After a restore: CAS uniques handed out from now on are larger than any restored,
    /// so a client holding an old one can never match a new item by chance.
    public func finishRestore(maxCAS: UInt64) {
        for shard in shards {
            shard.withLock { $0.advanceCAS(past: maxCAS) }
        }
    }
}
