import Glibc

/// One shard of the store: a dictionary of items, its expiry queue and its counters,
/// behind its own lock.
///
/// The lock is a `pthread_mutex_t` rather than `Synchronization.Mutex`: on Linux the latter
/// locks inside the Swift runtime library, where ThreadSanitizer cannot see it, so every
/// access under it would be reported as a race; glibc's mutex is understood by the sanitizer
/// and is the classic, well-measured choice.
///
/// Critical sections stay a few dictionary operations long: values are copied before the lock
/// is taken, and replaced or removed entries are handed back out of the critical section so
/// their memory is freed after the lock is released. The only allocations under the lock are
/// the dictionary's and the expiry queue's own growth and, on insertion of a new key, the
/// copy of the key (at most 250 bytes; copying it up front would cost every overwrite an
/// allocation). The queue's copy of a key is made before the lock.
final class StoreShard: @unchecked Sendable {
    // Safe to share: `entries` is only reached through `withLock`, between lock and unlock of
    // `mutex`, and both live in one heap block that is never moved or freed before `deinit`.

    typealias Entries = [StoreKey: StoreItem]

    /// Everything the shard's lock protects.
    struct State {
        var entries: Entries = [:]
        /// The items with an expiry, soonest first.
        var expiring = ExpiryQueue()
        /// Reads that found their key, and that did not (an expired item is a miss).
        var hits = 0
        var misses = 0
        /// Items removed because they had expired.
        var expired = 0
        /// The next CAS unique: shard `i` of `n` hands out `i + 1`, `i + 1 + n`, ..., so
        /// uniques are unique across shards without a shared counter.
        var cas: UInt64
        let casStep: UInt64

        mutating func nextCAS() -> UInt64 {
            defer { cas &+= casStep }
            return cas
        }
    }

    /// The mutex and the state, together in one block aligned to a cache line, so that
    /// threads working on different shards never share a line.
    private let block: UnsafeMutableRawPointer
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let state: UnsafeMutablePointer<State>

    private static let cacheLine = 64
    private static let stateOffset =
        (MemoryLayout<pthread_mutex_t>.size + MemoryLayout<State>.alignment - 1)
        / MemoryLayout<State>.alignment * MemoryLayout<State>.alignment
    private static let blockSize =
        (stateOffset + MemoryLayout<State>.size + cacheLine - 1) / cacheLine * cacheLine

    /// Shard `index` of `count`.
    init(index: Int, of count: Int) {
        block = UnsafeMutableRawPointer.allocate(byteCount: Self.blockSize, alignment: Self.cacheLine)
        mutex = block.initializeMemory(as: pthread_mutex_t.self, repeating: pthread_mutex_t(), count: 1)
        state = (block + Self.stateOffset).initializeMemory(
            as: State.self, repeating: State(cas: UInt64(index) + 1, casStep: UInt64(count)), count: 1)
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        state.deinitialize(count: 1)
        mutex.deinitialize(count: 1)
        block.deallocate()
    }

    /// Runs `body` on the shard's state with its lock held.
    func withLock<Value, Failure: Error>(
        _ body: (inout State) throws(Failure) -> Value
    ) throws(Failure) -> Value {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&state.pointee)
    }
}
