import Synchronization

/// The store's totals (bytes and keys) and its memory bound, shared by every shard.
///
/// Shards change these only while holding their own lock, paired with the dictionary change,
/// so the totals are exact once the operations have returned. The bytes total is also the
/// reservation that enforces the bound: a compare-exchange admits an increase only if the
/// new total stays within `limit`, so concurrent writers to different shards cannot exceed it
/// together. Relaxed ordering is enough: the totals publish no other memory (the shard locks
/// do that). It is a class of its own so that writes to these counters do not invalidate the
/// cache line holding the store's read-mostly fields.
final class StoreUsage: Sendable {
    let limit: Int
    private let bytes = Atomic<Int>(0)
    private let keys = Atomic<Int>(0)

    init(limit: Int) {
        self.limit = limit
    }

    var bytesStored: Int { bytes.load(ordering: .relaxed) }
    var keyCount: Int { keys.load(ordering: .relaxed) }

    /// Adds `delta` bytes to the total if the result stays within `limit`; a decrease always
    /// succeeds. Returns whether the change was made.
    func reserve(_ delta: Int) -> Bool {
        // An overwrite of the same size (the usual SET and INCR) touches no shared cache line.
        if delta == 0 { return true }
        if delta < 0 {
            bytes.wrappingAdd(delta, ordering: .relaxed)
            return true
        }
        var current = bytes.load(ordering: .relaxed)
        while true {
            let (next, overflow) = current.addingReportingOverflow(delta)
            guard !overflow, next <= limit else { return false }
            let (exchanged, original) = bytes.weakCompareExchange(
                expected: current, desired: next, ordering: .relaxed)
            if exchanged { return true }
            current = original
        }
    }

    /// Gives back `count` bytes (after a removal).
    func release(_ count: Int) {
        bytes.wrappingSubtract(count, ordering: .relaxed)
    }

    func addKey() {
        keys.wrappingAdd(1, ordering: .relaxed)
    }

    func removeKey() {
        keys.wrappingSubtract(1, ordering: .relaxed)
    }
}
