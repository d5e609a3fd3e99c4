import Synchronization

/// The store's memory bound, shared by every shard: bytes of slab pages, large-item blocks,
/// hash indexes and expiry queues, reserved before they are allocated and released after
/// they are freed.
///
/// A compare-exchange admits a reservation only if the total stays within `limit`, so
/// shards reserving at once cannot pass it together. Relaxed ordering is enough: the total
/// publishes no other memory (the shard locks do that). Reservations are per page (64 KiB),
/// not per item, so writes to this shared line are rare.
final class MemoryBudget: Sendable {
    let limit: Int
    private let used = Atomic<Int>(0)

    init(limit: Int) {
        self.limit = limit
    }

    var bytesUsed: Int { used.load(ordering: .relaxed) }

    /// Adds `count` bytes if the total stays within `limit`. Returns whether it did.
    func reserve(_ count: Int) -> Bool {
        var current = used.load(ordering: .relaxed)
        while true {
            let (next, overflow) = current.addingReportingOverflow(count)
            guard !overflow, next <= limit else { return false }
            let (exchanged, original) = used.weakCompareExchange(
                expected: current, desired: next, ordering: .relaxed)
            if exchanged { return true }
            current = original
        }
    }

    func release(_ count: Int) {
        used.wrappingSubtract(count, ordering: .relaxed)
    }
}
