import ArgumentParser

/// How `%k` draws its keys: at random (a cache's working set), or each key in turn (to
/// fill a store with exactly `--keys` distinct items).
enum KeyOrder: String, CaseIterable, Sendable, ExpressibleByArgument {
    case random
    case sequential
}

/// One load thread's next key. Sequential: thread `i` of `T` takes keys `i`, `i + T`,
/// `i + 2T`, ... (wrapping), so with `--requests` equal to `--keys` the threads together
/// use every key exactly once.
struct KeyCursor {
    private let order: KeyOrder
    private let count: Int
    private let step: Int
    private var next: Int

    init(order: KeyOrder, count: Int, thread: Int, threads: Int) {
        self.order = order
        self.count = count
        self.step = threads
        self.next = thread % count
    }

    @inline(__always)
    mutating func take(_ random: inout FastRandom) -> Int {
        switch order {
        case .random:
            return random.below(count)
        case .sequential:
            let key = next
            next += step
            if next >= count { next %= count }
            return key
        }
    }
}
