/// The process-wide key/value store shared by every worker thread: a cache with expiry,
/// LRU eviction and a memory bound that counts what it allocates.
///
/// Keys and values are bytes. Each item also carries 32-bit client flags, an optional
/// expiry and a CAS unique that changes whenever its value does. The store is sharded by
/// key hash, each shard behind its own mutex, so workers touching different keys rarely
/// wait on each other; each operation on a key is atomic (`increment` from many threads
/// loses no update).
///
/// Memory: items live in per-shard slab pages (see `ShardStorage`), and `memoryUsed` counts
/// those pages, the index beyond its initial size and the expiry queues. It never exceeds
/// `maxMemoryBytes`. When a write needs more, `eviction` decides: `.none` refuses it,
/// `.lru` evicts the least recently used items of the shard's slab class.
///
/// An expired item is never returned. It is removed when an operation finds it, or by
/// ``reclaimExpired(limitPerShard:)``, which takes each shard's soonest expiries from a
/// queue (never a scan), a bounded number at a time; until then it still counts in
/// `keyCount` and `bytesStored`.
///
/// The store does not validate keys beyond their length (at most 255 bytes): what a valid
/// key is belongs to the protocol.
public final class Store: Sendable {
    /// How long an item has left.
    public enum TimeToLive: Equatable, Sendable {
        case never
        case seconds(Int)
    }

    /// Reads, expiries and evictions since the store was made.
    public struct Statistics: Equatable, Sendable {
        /// Reads that found their key.
        public var hits = 0
        /// Reads that did not (an expired item is a miss).
        public var misses = 0
        /// Items removed because they had expired.
        public var expired = 0
        /// Items removed to make room for others.
        public var evictions = 0
        /// Live items, and the bytes of their keys and values.
        public var keys = 0
        public var bytesStored = 0
        /// Writes asked for (stored or not), and items stored, since the start.
        public var writes = 0
        public var itemsStored = 0
    }

    /// The bound on `memoryUsed`.
    public let maxMemoryBytes: Int
    public let eviction: EvictionPolicy
    let shards: [StoreShard]
    private let budget: MemoryBudget

    /// Creates an empty store.
    /// - Parameters:
    ///   - maxMemoryBytes: the bound on `memoryUsed`; a negative bound is taken as 0.
    ///   - eviction: what a write does when the bound leaves no room.
    ///   - shardCount: the number of independently locked shards (at least 1 is used); by
    ///     default `defaultShardCount(maxMemoryBytes:)`.
    ///   - clock: the seconds that expiries count in.
    public init(
        maxMemoryBytes: Int, eviction: EvictionPolicy = .none, shardCount: Int? = nil,
        clock: StoreClock = .monotonic()
    ) {
        self.maxMemoryBytes = max(0, maxMemoryBytes)
        self.eviction = eviction
        let budget = MemoryBudget(limit: self.maxMemoryBytes)
        self.budget = budget
        let count = max(1, shardCount ?? Self.defaultShardCount(maxMemoryBytes: maxMemoryBytes))
        self.shards = (0..<count).map {
            StoreShard(storage: ShardStorage(shard: $0, of: count, clock: clock, budget: budget, eviction: eviction))
        }
    }

    /// 64 shards, fewer when `maxMemoryBytes` is small: each shard takes memory a 64 KiB page
    /// per slab class at a time, so a shard should have room for at least 16 pages.
    public static func defaultShardCount(maxMemoryBytes: Int) -> Int {
        var count = 64
        while count > 1 && maxMemoryBytes / count < 16 * SlabClasses.pageSize { count /= 2 }
        return count
    }

    /// Bytes the store has taken from its bound: slab pages, large items' blocks, index and
    /// expiry queue growth. What is resident is at most this.
    public var memoryUsed: Int { budget.bytesUsed }

    /// The number of keys in the store.
    public var keyCount: Int { statistics.keys }

    /// The bytes of every key plus every value in the store.
    public var bytesStored: Int { statistics.bytesStored }

    /// Counters and totals, summed over the shards (each read under its lock).
    public var statistics: Statistics {
        var total = Statistics()
        for shard in shards {
            shard.withLock { storage in
                total.hits += storage.hits
                total.misses += storage.misses
                total.expired += storage.expired
                total.evictions += storage.evictions
                total.keys += storage.items
                total.bytesStored += storage.bytesStored
                total.writes += storage.writes
                total.itemsStored += storage.itemsStored
            }
        }
        return total
    }

    /// Appends the value stored for `key` to `output` and returns the item's header, or
    /// returns nil (appending nothing) when the key is absent or expired. Counted as a read.
    ///
    /// The value is copied under the shard's lock straight into `output`; when `output` has no
    /// room for it, the lock is let go, room is made, and the read is tried again.
    public func read(_ key: ArraySlice<UInt8>, appendingValueTo output: inout [UInt8]) -> StoreItemInfo? {
        read(key, into: &output, headerRoom: 0, touching: nil) { _, _ in }
    }

    /// Appends `header(item)`, then the item's value, to `output`; nil (appending nothing)
    /// when the key is absent or expired. Counted as a read. `touching` also sets the item's
    /// expiry (memcached's `gat`); a touch that would need memory the bound does not leave
    /// is not made, and the read still is.
    ///
    /// `withValue: false` appends the header only. `claimingWin` lets the first reader of a
    /// stale item claim the right to recache it (`StoreItemInfo.won`, memcached's `W`).
    ///
    /// `header` runs under the shard's lock, with room for `headerRoom` bytes reserved in
    /// `output`: it must only format the item's fields (no I/O, no locks, at most
    /// `headerRoom` bytes), since every worker touching that shard waits for it.
    public func read(
        _ key: ArraySlice<UInt8>, into output: inout [UInt8], headerRoom: Int, touching: StoreExpiry?,
        withValue: Bool = true, claimingWin: Bool = false, header: (StoreItemInfo, inout [UInt8]) -> Void
    ) -> StoreItemInfo? {
        let key = StoreKey(borrowing: key)
        let shard = shard(for: key)
        var touch = touching
        while true {
            let outcome = shard.withLock { storage in
                storage.read(
                    key, into: &output, headerRoom: headerRoom, touch: touch, withValue: withValue,
                    claimWin: claimingWin, header: header)
            }
            switch outcome {
            case .miss: return nil
            case .hit(let info): return info
            case .failed: touch = nil
            case .needsCapacity(let count):
                // Geometric, as appending would grow it: pipelined reads do not copy the
                // buffer once each.
                output.reserveCapacity(max(output.count + count, 2 * output.capacity))
            }
        }
    }

    /// The value stored for `key`, or `nil` when the key is absent or expired. Counted as a
    /// read (hit or miss).
    public func value(forKey key: ArraySlice<UInt8>) -> [UInt8]? {
        var value: [UInt8] = []
        return read(key, appendingValueTo: &value) == nil ? nil : value
    }

    /// The item stored for `key`, or `nil` when the key is absent or expired. Counted as a
    /// read (hit or miss).
    public func entry(forKey key: ArraySlice<UInt8>) -> StoreEntry? {
        var value: [UInt8] = []
        guard let info = read(key, appendingValueTo: &value) else { return nil }
        return StoreEntry(value: value, flags: info.flags, cas: info.cas, secondsLeft: info.secondsLeft)
    }

    /// Stores `value` for `key` with `flags` and no expiry, replacing any previous item.
    ///
    /// - Throws: `StoreError.outOfMemory` when the bound leaves no room (under `.none`, or
    ///   under `.lru` when nothing in the shard can be evicted for it); nothing changes then,
    ///   except items evicted in trying. `.keyTooLong` for a key over 255 bytes. A value of
    ///   1 GiB or more is `.outOfMemory`.
    public func set(_ value: ArraySlice<UInt8>, forKey key: ArraySlice<UInt8>, flags: UInt32 = 0) throws(StoreError) {
        _ = try store(value, forKey: key, flags: flags)
    }

    /// Writes `value` for `key` as `mode` says (memcached's storage commands), only if
    /// `compareCAS`, when given, is the live item's CAS unique. `append` and `prepend` keep
    /// the item's flags and expiry and ignore these.
    /// - Throws: as `set`; a refused write changes nothing.
    @discardableResult
    public func store(
        _ value: ArraySlice<UInt8>, forKey key: ArraySlice<UInt8>, flags: UInt32 = 0,
        expiry: StoreExpiry = .never, mode: StoreWriteMode = .set, compareCAS: UInt64? = nil,
        marks: ItemMarks = [], invalidateIfOlder: Bool = false
    ) throws(StoreError) -> StoreWriteResult {
        let key = StoreKey(borrowing: key)
        return try run(on: shard(for: key)) {
            $0.store(
                key, value: value, flags: flags, expiry: expiry, mode: mode, compareCAS: compareCAS,
                marks: marks, invalidateIfOlder: invalidateIfOlder)
        }
    }

    /// memcached's `md`: removes `key`'s item (`.stored` with CAS 0), or with `invalidate`
    /// marks it stale with a new CAS unique and `expiry` if given; only if `compareCAS`, when
    /// given, matches (`.exists` if not); `.notFound` when absent.
    /// - Throws: `StoreError.outOfMemory` as `expire`.
    public func delete(
        _ key: ArraySlice<UInt8>, compareCAS: UInt64? = nil, invalidate: Bool = false, expiry: StoreExpiry? = nil
    ) throws(StoreError) -> StoreWriteResult {
        let key = StoreKey(borrowing: key)
        return try run(on: shard(for: key)) {
            $0.delete(key, compareCAS: compareCAS, invalidate: invalidate, expiry: expiry)
        }
    }

    /// Removes `key` and its item. Returns whether a live key was present.
    @discardableResult
    public func removeValue(forKey key: ArraySlice<UInt8>) -> Bool {
        let key = StoreKey(borrowing: key)
        return shard(for: key).withLock { $0.remove(key) }
    }

    /// Makes `key` expire `seconds` from now; 0 or less expires it at once. Its value and
    /// CAS unique stay. Returns whether a live key was present.
    /// - Throws: `StoreError.outOfMemory` when the shard's expiry queue must grow and the
    ///   bound leaves no room for it (under `.none`); nothing changes then.
    @discardableResult
    public func expire(_ key: ArraySlice<UInt8>, afterSeconds seconds: Int64) throws(StoreError) -> Bool {
        try touch(key, expiry: .afterSeconds(seconds))
    }

    /// Sets `key`'s expiry: `.never` clears it, `.afterSeconds` of 0 or less removes the
    /// item. Returns whether a live key was present.
    /// - Throws: as `expire`.
    @discardableResult
    public func touch(_ key: ArraySlice<UInt8>, expiry: StoreExpiry) throws(StoreError) -> Bool {
        let key = StoreKey(borrowing: key)
        return try run(on: shard(for: key)) { $0.touch(key, expiry: expiry) }
    }

    /// Adds `delta` to the unsigned decimal number stored for `key`, or subtracts it
    /// stopping at 0 (memcached's `incr`, which wraps at 2^64, and `decr`), if
    /// `compareCAS`, when given, is the item's CAS unique. A miss creates the item when
    /// `create` says with what. Its flags and expiry stay.
    /// - Throws: `StoreError.outOfMemory` as `set`.
    public func adjust(
        _ key: ArraySlice<UInt8>, by delta: UInt64, decrement: Bool = false, compareCAS: UInt64? = nil,
        create: (initial: UInt64, expiry: StoreExpiry)? = nil
    ) throws(StoreError) -> StoreArithmeticResult {
        let key = StoreKey(borrowing: key)
        return try run(on: shard(for: key)) {
            $0.adjust(key, by: delta, decrement: decrement, compareCAS: compareCAS, create: create)
        }
    }

    /// Makes every item stored so far gone: now, or `seconds` from now (memcached's
    /// `flush_all`). Each shard's lock is held for a few instructions: nothing is scanned;
    /// the items are removed when found, and by ``reclaimExpired(limitPerShard:)``.
    public func flushAll(afterSeconds seconds: Int = 0) {
        for shard in shards {
            shard.withLock { $0.flush(afterSeconds: seconds) }
        }
    }

    /// How long `key` has left, or nil when it is absent or expired.
    public func timeToLive(_ key: ArraySlice<UInt8>) -> TimeToLive? {
        let key = StoreKey(borrowing: key)
        return shard(for: key).withLock { $0.timeToLive(key) }
    }

    /// Adds `delta` to the integer stored for `key` and returns the new value, atomically.
    ///
    /// An absent key counts as 0 and is created. The value is stored as its decimal text, so
    /// `value(forKey:)` returns it as such; its flags and expiry stay, its CAS unique is new.
    /// - Throws: `StoreError.valueNotInteger` when the stored value is not a 64-bit decimal
    ///   integer (see `DecimalInteger`), `.overflow` when the sum does not fit in 64 bits,
    ///   `.outOfMemory` as `set`. Nothing changes then.
    public func increment(_ key: ArraySlice<UInt8>, by delta: Int64) throws(StoreError) -> Int64 {
        try update(key) { current throws(StoreError) in
            let (result, overflow) = current.addingReportingOverflow(delta)
            guard !overflow else { throw .overflow }
            return result
        }
    }

    /// Subtracts `delta` from the integer stored for `key` and returns the new value,
    /// atomically. The same as `increment` with the delta negated, except that subtracting
    /// `Int64.min` works whenever the result fits (it cannot be negated first).
    /// - Throws: as `increment`.
    public func decrement(_ key: ArraySlice<UInt8>, by delta: Int64) throws(StoreError) -> Int64 {
        try update(key) { current throws(StoreError) in
            let (result, overflow) = current.subtractingReportingOverflow(delta)
            guard !overflow else { throw .overflow }
            return result
        }
    }

    /// Replaces the integer stored for `key` (0 when absent) with `transform` of it, under
    /// the shard's lock.
    private func update(
        _ key: ArraySlice<UInt8>, _ transform: (Int64) throws(StoreError) -> Int64
    ) throws(StoreError) -> Int64 {
        let key = StoreKey(borrowing: key)
        return try run(on: shard(for: key)) { $0.update(key, transform) }
    }

    /// Removes items whose time has come, at most `limitPerShard` queue entries per shard
    /// (each shard's lock held for one such slice, or less when a slice empties a page).
    /// Returns how many items it removed.
    @discardableResult
    public func reclaimExpired(limitPerShard: Int) -> Int {
        var removed = 0
        for shard in shards {
            var examined = 0
            while examined < limitPerShard {
                let slice = shard.withLock { storage in
                    let now = storage.clock.now()
                    guard storage.hasExpiredDue(now: now) else { return (removed: 0, examined: 0) }
                    return storage.reclaimExpired(now: now, limit: limitPerShard - examined)
                }
                removed += slice.removed
                examined += slice.examined
                if slice.examined == 0 { break }
            }
        }
        return removed
    }

    /// Runs `operation` under the shard's lock until it is done: allocating a page outside
    /// the lock when it asks for one, and trying again after a page it retired is freed.
    func run<Value>(
        on shard: StoreShard, _ operation: (inout ShardStorage) -> ShardStorage.Outcome<Value>
    ) throws(StoreError) -> Value {
        var grant: ShardStorage.PageGrant?
        while true {
            let outcome = shard.withLock { storage in
                if let page = grant {
                    storage.install(page)
                    grant = nil
                }
                return operation(&storage)
            }
            switch outcome {
            case .done(let value):
                return value
            case .failed(let error):
                throw error
            case .retry:
                continue
            case .needsMemory(let byteCount, let classIndex):
                grant = ShardStorage.PageGrant(
                    memory: PageMemory.allocate(byteCount: byteCount), byteCount: byteCount, classIndex: classIndex)
            }
        }
    }

    func shard(for key: StoreKey) -> StoreShard {
        shards[Int(UInt(bitPattern: key.digest) % UInt(shards.count))]
    }
}
