/// The process-wide key/value store shared by every worker thread.
///
/// Keys and values are bytes. Each item also carries 32-bit client flags, an optional
/// expiry and a CAS unique that changes whenever its value does. The store is sharded by
/// key hash, each shard behind its own mutex, so workers touching different keys rarely
/// wait on each other; each operation on a key is atomic (`increment` from many threads
/// loses no update). `keyCount` and `bytesStored` are exact and cheap to read, and
/// `bytesStored` (the bytes of every key plus every value) never exceeds
/// `maxMemoryBytes`, however many threads write at once.
///
/// An expired item is never returned. It is removed when an operation finds it, or by
/// ``reclaimExpired(limitPerShard:)``, which takes each shard's soonest expiries from a
/// queue (never a scan), a bounded number at a time; until then it still counts in
/// `keyCount` and `bytesStored`.
///
/// The store does not validate keys: any byte string is a key. What a valid key is belongs to
/// the protocol.
public final class Store: Sendable {
    /// How long an item has left.
    public enum TimeToLive: Equatable, Sendable {
        case never
        case seconds(Int)
    }

    /// Reads and expiries since the store was made.
    public struct Statistics: Equatable, Sendable {
        /// Reads that found their key.
        public var hits = 0
        /// Reads that did not (an expired item is a miss).
        public var misses = 0
        /// Items removed because they had expired.
        public var expired = 0
    }

    /// The bound on `bytesStored`.
    public let maxMemoryBytes: Int
    private let shards: [StoreShard]
    private let usage: StoreUsage
    private let clock: StoreClock

    /// Creates an empty store.
    /// - Parameters:
    ///   - maxMemoryBytes: the bound on `bytesStored`; a negative bound is taken as 0.
    ///   - shardCount: the number of independently locked shards; at least 1 is used.
    ///   - clock: the seconds that expiries count in.
    public init(maxMemoryBytes: Int, shardCount: Int = 64, clock: StoreClock = .monotonic()) {
        self.maxMemoryBytes = max(0, maxMemoryBytes)
        let shardCount = max(1, shardCount)
        self.shards = (0..<shardCount).map { StoreShard(index: $0, of: shardCount) }
        self.usage = StoreUsage(limit: self.maxMemoryBytes)
        self.clock = clock
    }

    /// The number of keys in the store.
    public var keyCount: Int { usage.keyCount }

    /// The bytes of every key plus every value in the store.
    public var bytesStored: Int { usage.bytesStored }

    /// Reads and expiries, summed over the shards.
    public var statistics: Statistics {
        var total = Statistics()
        for shard in shards {
            shard.withLock { state in
                total.hits += state.hits
                total.misses += state.misses
                total.expired += state.expired
            }
        }
        return total
    }

    /// The value stored for `key`, or `nil` when the key is absent or expired. Counted as a
    /// read (hit or miss).
    public func value(forKey key: ArraySlice<UInt8>) -> [UInt8]? {
        let key = StoreKey(borrowing: key)
        let usage = self.usage
        var dropped: RemovedItem?
        // Only a reference is taken under the lock; the caller copies the bytes after it.
        let value: [UInt8]? = shard(for: key).withLock { state in
            guard let index = state.entries.index(forKey: key) else {
                state.misses += 1
                return nil
            }
            // The item is read once: its expiry, then its value.
            let item = state.entries.values[index]
            if item.expiresAt != 0 && clock.now() >= item.expiresAt {
                _ = Self.remove(at: index, in: &state, usage: usage, dropped: &dropped)
                state.misses += 1
                return nil
            }
            state.hits += 1
            return item.value
        }
        return value  // `dropped`, an expired item, is freed here, after the lock
    }

    /// The item stored for `key`, or `nil` when the key is absent or expired. Counted as a
    /// read (hit or miss).
    public func entry(forKey key: ArraySlice<UInt8>) -> StoreEntry? {
        let key = StoreKey(borrowing: key)
        let now = clock.now()
        let usage = self.usage
        var dropped: RemovedItem?
        // Only references are taken under the lock; the caller copies the bytes after it.
        let entry: StoreEntry? = shard(for: key).withLock { state in
            guard let index = Self.liveIndex(of: key, in: &state, now: now, usage: usage, dropped: &dropped) else {
                state.misses += 1
                return nil
            }
            state.hits += 1
            let item = state.entries.values[index]
            return StoreEntry(value: item.value, flags: item.flags, cas: item.cas,
                              secondsLeft: item.expiresAt == 0 ? nil : item.expiresAt - now)
        }
        return entry  // `dropped`, an expired item, is freed here, after the lock
    }

    /// Stores `value` for `key` with `flags` and no expiry, replacing any previous item.
    ///
    /// - Throws: `StoreError.outOfMemory` when the change (the key and value bytes for a new
    ///   key, the difference in value size for a replacement) would take `bytesStored` past
    ///   `maxMemoryBytes`; nothing is stored then.
    public func set(_ value: ArraySlice<UInt8>, forKey key: ArraySlice<UInt8>, flags: UInt32 = 0) throws(StoreError) {
        let key = StoreKey(borrowing: key)
        let usage = self.usage
        var item = StoreItem(value: Array(value), flags: flags, expiresAt: 0, cas: 0)
        var dropped: RemovedItem?
        let outcome: Result<StoreItem?, StoreError> = shard(for: key).withLock { state in
            item.cas = state.nextCAS()
            if let index = liveIndex(of: key, in: &state, usage: usage, dropped: &dropped) {
                let old = state.entries.values[index]
                guard usage.reserve(item.value.count - old.value.count) else { return .failure(.outOfMemory) }
                state.entries.values[index] = item
                return .success(old)
            }
            guard usage.reserve(key.bytes.count + item.value.count) else { return .failure(.outOfMemory) }
            state.entries[key.owned()] = item
            usage.addKey()
            return .success(nil)
        }
        // The replaced item, if any, is freed here, after the lock.
        _ = try outcome.get()
    }

    /// Removes `key` and its item. Returns whether a live key was present.
    @discardableResult
    public func removeValue(forKey key: ArraySlice<UInt8>) -> Bool {
        let key = StoreKey(borrowing: key)
        let usage = self.usage
        var dropped: RemovedItem?
        let removed: RemovedItem? = shard(for: key).withLock { state in
            guard let index = liveIndex(of: key, in: &state, usage: usage, dropped: &dropped) else { return nil }
            let entry = state.entries.remove(at: index)
            usage.release(entry.key.bytes.count + entry.value.value.count)
            usage.removeKey()
            return RemovedItem(key: entry.key, item: entry.value)
        }
        // The removed key and item are freed here, after the lock.
        return removed != nil
    }

    /// Makes `key` expire `seconds` from now; 0 or less expires it at once. Its value and
    /// CAS unique stay. Returns whether a live key was present.
    @discardableResult
    public func expire(_ key: ArraySlice<UInt8>, afterSeconds seconds: Int64) -> Bool {
        let key = StoreKey(borrowing: key)
        let now = clock.now()
        let usage = self.usage
        let (sum, overflow) = now.addingReportingOverflow(Int(clamping: seconds))
        let expiresAt = overflow ? StoreItem.maxExpiry : min(sum, StoreItem.maxExpiry)
        // The queue's copy of the key is made before the lock.
        let queued = seconds > 0 ? ExpiryQueue.Entry(expiresAt: expiresAt, key: key.owned()) : nil
        var dropped: RemovedItem?
        let found: (present: Bool, removed: RemovedItem?) = shard(for: key).withLock { state in
            guard let index = Self.liveIndex(of: key, in: &state, now: now, usage: usage, dropped: &dropped) else {
                return (false, nil)
            }
            guard let queued else {
                let entry = state.entries.remove(at: index)
                usage.release(entry.key.bytes.count + entry.value.value.count)
                usage.removeKey()
                state.expired += 1
                return (true, RemovedItem(key: entry.key, item: entry.value))
            }
            state.entries.values[index].expiresAt = expiresAt
            state.expiring.insert(queued)
            return (true, nil)
        }
        return found.present  // a removed item is freed here, after the lock
    }

    /// How long `key` has left, or nil when it is absent or expired.
    public func timeToLive(_ key: ArraySlice<UInt8>) -> TimeToLive? {
        let key = StoreKey(borrowing: key)
        let now = clock.now()
        let usage = self.usage
        var dropped: RemovedItem?
        return shard(for: key).withLock { state in
            guard let index = Self.liveIndex(of: key, in: &state, now: now, usage: usage, dropped: &dropped) else { return nil }
            let expiresAt = state.entries.values[index].expiresAt
            return expiresAt == 0 ? .never : .seconds(expiresAt - now)
        }
    }

    /// Adds `delta` to the integer stored for `key` and returns the new value, atomically.
    ///
    /// An absent key counts as 0 and is created. The value is stored as its decimal text, so
    /// `value(forKey:)` returns it as such; its flags and expiry stay, its CAS unique is new.
    /// - Throws: `StoreError.valueNotInteger` when the stored value is not a 64-bit decimal
    ///   integer (see `DecimalInteger`), `.overflow` when the sum does not fit in 64 bits,
    ///   `.outOfMemory` when the longer text or the new key would pass `maxMemoryBytes`.
    ///   Nothing changes then.
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

    /// Removes items whose time has come, at most `limitPerShard` queue entries per shard
    /// (each shard's lock held for one such slice). Returns how many items it removed.
    @discardableResult
    public func reclaimExpired(limitPerShard: Int) -> Int {
        let now = clock.now()
        let usage = self.usage
        var removed = 0
        // Allocated before the locks; what it holds is freed after each.
        var dropped: [ExpiryQueue.Entry] = []
        var droppedItems: [StoreItem] = []
        dropped.reserveCapacity(limitPerShard)
        droppedItems.reserveCapacity(limitPerShard)
        for shard in shards {
            shard.withLock { state in
                while dropped.count < limitPerShard, let first = state.expiring.first, first.expiresAt <= now {
                    let entry = state.expiring.removeFirst()
                    dropped.append(entry)
                    // Entries are not updated when an item changes: skip stale ones.
                    guard let index = state.entries.index(forKey: entry.key),
                          state.entries.values[index].expiresAt == entry.expiresAt else { continue }
                    let item = state.entries.remove(at: index)
                    usage.release(item.key.bytes.count + item.value.value.count)
                    usage.removeKey()
                    state.expired += 1
                    droppedItems.append(item.value)
                }
            }
            removed += droppedItems.count
            dropped.removeAll(keepingCapacity: true)
            droppedItems.removeAll(keepingCapacity: true)
        }
        return removed
    }

    /// Replaces the integer stored for `key` (0 when absent) with `transform` of it, under the
    /// shard's lock.
    private func update(
        _ key: ArraySlice<UInt8>,
        _ transform: (Int64) throws(StoreError) -> Int64
    ) throws(StoreError) -> Int64 {
        let key = StoreKey(borrowing: key)
        let usage = self.usage
        // Allocated before the lock; filled in under it without growing.
        var text: [UInt8] = []
        text.reserveCapacity(DecimalInteger.maxLength)
        var dropped: RemovedItem?
        let outcome: Result<(value: Int64, replaced: StoreItem?), StoreError> =
            shard(for: key).withLock { state in
                let cas = state.nextCAS()
                let index = liveIndex(of: key, in: &state, usage: usage, dropped: &dropped)
                var current: Int64 = 0
                if let index {
                    guard let stored = DecimalInteger.parse(state.entries.values[index].value) else {
                        return .failure(.valueNotInteger)
                    }
                    current = stored
                }
                let result: Int64
                do throws(StoreError) {
                    result = try transform(current)
                } catch {
                    return .failure(error)
                }
                DecimalInteger.append(result, to: &text)
                if let index {
                    let old = state.entries.values[index]
                    guard usage.reserve(text.count - old.value.count) else { return .failure(.outOfMemory) }
                    state.entries.values[index] = StoreItem(value: text, flags: old.flags, expiresAt: old.expiresAt, cas: cas)
                    return .success((result, old))
                }
                guard usage.reserve(key.bytes.count + text.count) else { return .failure(.outOfMemory) }
                state.entries[key.owned()] = StoreItem(value: text, flags: 0, expiresAt: 0, cas: cas)
                usage.addKey()
                return .success((result, nil))
            }
        return try outcome.get().value
    }

    /// With the shard's lock held: the index of `key`'s live item, or nil. An expired item
    /// found on the way is removed and counted, and handed out in `dropped` so that it is
    /// freed after the lock.
    @inline(__always)
    private static func liveIndex(
        of key: StoreKey, in state: inout StoreShard.State, now: Int, usage: StoreUsage, dropped: inout RemovedItem?
    ) -> StoreShard.Entries.Index? {
        guard let index = state.entries.index(forKey: key) else { return nil }
        guard state.entries.values[index].isExpired(at: now) else { return index }
        return remove(at: index, in: &state, usage: usage, dropped: &dropped)
    }

    /// `liveIndex` for callers that need the time only to judge an expiry: the clock is
    /// read (a vDSO call) only for an item that has one.
    @inline(__always)
    private func liveIndex(
        of key: StoreKey, in state: inout StoreShard.State, usage: StoreUsage, dropped: inout RemovedItem?
    ) -> StoreShard.Entries.Index? {
        guard let index = state.entries.index(forKey: key) else { return nil }
        let expiresAt = state.entries.values[index].expiresAt
        guard expiresAt != 0, clock.now() >= expiresAt else { return index }
        return Self.remove(at: index, in: &state, usage: usage, dropped: &dropped)
    }

    /// Removes the expired item at `index`, counted; it goes out in `dropped`.
    @inline(__always)
    private static func remove(
        at index: StoreShard.Entries.Index, in state: inout StoreShard.State, usage: StoreUsage,
        dropped: inout RemovedItem?
    ) -> StoreShard.Entries.Index? {
        let entry = state.entries.remove(at: index)
        usage.release(entry.key.bytes.count + entry.value.value.count)
        usage.removeKey()
        state.expired += 1
        dropped = RemovedItem(key: entry.key, item: entry.value)
        return nil
    }

    /// An item taken out under a lock, to be freed after it.
    private struct RemovedItem {
        let key: StoreKey
        let item: StoreItem
    }

    private func shard(for key: StoreKey) -> StoreShard {
        shards[Int(UInt(bitPattern: key.digest) % UInt(shards.count))]
    }
}
