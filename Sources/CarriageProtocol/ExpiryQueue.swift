/// One shard's items that have an expiry, soonest first (a binary min-heap), so that
/// reclaiming expired items takes the ones due without scanning the shard.
///
/// Entries are not removed when an item changes: a reclaim checks that the item still has
/// the expiry its entry names, and drops the entry otherwise.
struct ExpiryQueue {
    struct Entry {
        let expiresAt: Int
        let key: StoreKey
    }

    private var heap: [Entry] = []

    var count: Int { heap.count }

    /// The soonest entry.
    var first: Entry? { heap.first }

    mutating func insert(_ entry: Entry) {
        heap.append(entry)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].expiresAt < heap[parent].expiresAt else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the soonest entry.
    mutating func removeFirst() -> Entry {
        let first = heap[0]
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1
                guard left < heap.count else { break }
                let right = left + 1
                let child = right < heap.count && heap[right].expiresAt < heap[left].expiresAt ? right : left
                guard heap[child].expiresAt < heap[parent].expiresAt else { break }
                heap.swapAt(child, parent)
                parent = child
            }
        }
        return first
    }
}
