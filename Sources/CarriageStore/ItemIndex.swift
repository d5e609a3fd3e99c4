/// A shard's hash index: a power-of-two array of bucket heads, each the first chunk of a
/// chain linked through the items' headers. 4 bytes per bucket, one to two buckets per item.
struct ItemIndex {
    private(set) var buckets: [ChunkID]
    private var mask: Int

    static let initialBuckets = 64

    init(buckets count: Int = Self.initialBuckets) {
        precondition(count > 0 && count & (count - 1) == 0, "a power of two")
        buckets = Array(repeating: .none, count: count)
        mask = count - 1
    }

    var bucketCount: Int { buckets.count }

    /// Bytes the budget counts for `count` buckets.
    static func budgetCost(buckets count: Int) -> Int {
        count * MemoryLayout<ChunkID>.stride
    }

    /// The bucket of a key's digest. The shard was picked by the digest's low bits, so
    /// buckets use higher ones.
    @inline(__always)
    func bucket(for digest: Int) -> Int {
        (digest >> 16) & mask
    }

    subscript(bucket: Int) -> ChunkID {
        get { buckets[bucket] }
        set { buckets[bucket] = newValue }
    }

    /// Replaces the array with one of twice the buckets and relinks every chain; `digest`
    /// gives each chunk's key digest, `chunk` its header.
    mutating func double(digest: (ChunkID) -> Int, chunk: (ChunkID) -> ItemChunk) {
        let old = buckets
        buckets = Array(repeating: .none, count: old.count * 2)
        mask = buckets.count - 1
        for head in old {
            var id = head
            while !id.isNone {
                let item = chunk(id)
                let next = item.hashNext
                let bucket = bucket(for: digest(id))
                item.hashNext = buckets[bucket]
                buckets[bucket] = id
                id = next
            }
        }
    }
}
