/// The process-wide key/value store shared by every worker thread.
///
/// Keys and values are bytes. The store is sharded by key hash, each shard behind its own
/// mutex, so workers touching different keys rarely wait on each other; each operation on a
/// key is atomic (`increment` from many threads loses no update). `keyCount` and
/// `bytesStored` are exact and cheap to read, and `bytesStored` (the bytes of every key plus
/// every value) never exceeds `maxMemoryBytes`, however many threads write at once.
///
/// The store does not validate keys: any byte string is a key. What a valid key is belongs to
/// the protocol.
public final class Store: Sendable {
    /// The bound on `bytesStored`.
    public let maxMemoryBytes: Int
    private let shards: [StoreShard]
    private let usage: StoreUsage

    /// Creates an empty store.
    /// - Parameters:
    ///   - maxMemoryBytes: the bound on `bytesStored`; a negative bound is taken as 0.
    ///   - shardCount: the number of independently locked shards; at least 1 is used.
    public init(maxMemoryBytes: Int, shardCount: Int = 64) {
        self.maxMemoryBytes = max(0, maxMemoryBytes)
        self.shards = (0..<max(1, shardCount)).map { _ in StoreShard() }
        self.usage = StoreUsage(limit: self.maxMemoryBytes)
    }

    /// The number of keys in the store.
    public var keyCount: Int { usage.keyCount }

    /// The bytes of every key plus every value in the store.
    public var bytesStored: Int { usage.bytesStored }

    /// The value stored for `key`, or `nil` when the key is absent.
    public func value(forKey key: ArraySlice<UInt8>) -> [UInt8]? {
        let key = StoreKey(borrowing: key)
        // Only a reference is taken under the lock; the caller copies the bytes after it.
        return shard(for: key).withLock { $0[key] }
    }

    /// Stores `value` for `key`, replacing any previous value.
    ///
    /// - Throws: `StoreError.outOfMemory` when the change (the key and value bytes for a new
    ///   key, the difference in value size for a replacement) would take `bytesStored` past
    ///   `maxMemoryBytes`; nothing is stored then.
    public func set(_ value: ArraySlice<UInt8>, forKey key: ArraySlice<UInt8>) throws(StoreError) {
        let key = StoreKey(borrowing: key)
        let newValue = Array(value)
        let usage = self.usage
        let outcome: Result<[UInt8]?, StoreError> = shard(for: key).withLock { entries in
            if let index = entries.index(forKey: key) {
                let old = entries.values[index]
                guard usage.reserve(newValue.count - old.count) else { return .failure(.outOfMemory) }
                entries.values[index] = newValue
                return .success(old)
            }
            guard usage.reserve(key.bytes.count + newValue.count) else { return .failure(.outOfMemory) }
            entries[key.owned()] = newValue
            usage.addKey()
            return .success(nil)
        }
        // The replaced value, if any, is freed here, after the lock.
        _ = try outcome.get()
    }

    /// Removes `key` and its value. Returns whether the key was present.
    @discardableResult
    public func removeValue(forKey key: ArraySlice<UInt8>) -> Bool {
        let key = StoreKey(borrowing: key)
        let usage = self.usage
        let removed: (key: StoreKey, value: [UInt8])? = shard(for: key).withLock { entries in
            guard let index = entries.index(forKey: key) else { return nil }
            let entry = entries.remove(at: index)
            usage.release(entry.key.bytes.count + entry.value.count)
            usage.removeKey()
            return entry
        }
        // The removed key and value are freed here, after the lock.
        return removed != nil
    }

    /// Adds `delta` to the integer stored for `key` and returns the new value, atomically.
    ///
    /// An absent key counts as 0 and is created. The value is stored as its decimal text, so
    /// `value(forKey:)` returns it as such.
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
        let outcome: Result<(value: Int64, replaced: [UInt8]?), StoreError> =
            shard(for: key).withLock { entries in
                let index = entries.index(forKey: key)
                var current: Int64 = 0
                if let index {
                    guard let stored = DecimalInteger.parse(entries.values[index]) else {
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
                    let old = entries.values[index]
                    guard usage.reserve(text.count - old.count) else { return .failure(.outOfMemory) }
                    entries.values[index] = text
                    return .success((result, old))
                }
                guard usage.reserve(key.bytes.count + text.count) else { return .failure(.outOfMemory) }
                entries[key.owned()] = text
                usage.addKey()
                return .success((result, nil))
            }
        return try outcome.get().value
    }

    private func shard(for key: StoreKey) -> StoreShard {
        shards[Int(UInt(bitPattern: key.digest) % UInt(shards.count))]
    }
}
