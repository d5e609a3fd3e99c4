/// One shard's items that have an expiry, soonest first (a binary min-heap of 8-byte
/// entries), so that reclaiming expired items takes the ones due without scanning the shard.
///
/// Entries are not removed when an item changes or goes: a reclaim checks that the chunk
/// still holds an item with the expiry its entry names (any such item is due), and drops the
/// entry otherwise. The shard compacts the queue when stale entries outnumber live ones.
struct ExpiryQueue {
    struct Entry {
        let expiry: UInt32
        let chunk: ChunkID
    }

    private(set) var heap: [Entry] = []

    var count: Int { heap.count }
    var capacity: Int { heap.capacity }

    /// The soonest entry.
    var first: Entry? { heap.first }

    static let entrySize = MemoryLayout<Entry>.stride

    /// Makes room for `count` entries (called with the budget for them reserved).
    mutating func reserveCapacity(_ count: Int) {
        heap.reserveCapacity(count)
    }

    mutating func insert(_ entry: Entry) {
        heap.append(entry)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].expiry < heap[parent].expiry else { break }
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
            siftDown(from: 0)
        }
        return first
    }

    /// Keeps only the entries `isLive` accepts, in place, and restores the heap order.
    mutating func removeAll(where isStale: (Entry) -> Bool) {
        heap.removeAll(where: isStale)
        var parent = heap.count / 2
        while parent > 0 {
            parent -= 1
            siftDown(from: parent)
        }
    }

    private mutating func siftDown(from start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            guard left < heap.count else { break }
            let right = left + 1
            let child = right < heap.count && heap[right].expiry < heap[left].expiry ? right : left
            guard heap[child].expiry < heap[parent].expiry else { break }
            heap.swapAt(child, parent)
            parent = child
        }
    }
}
