import Glibc

/// One shard of the store: its `ShardStorage` (items, index, LRU lists, expiry queue,
/// counters) behind its own lock.
///
/// The lock is a `pthread_mutex_t` rather than `Synchronization.Mutex`: on Linux the latter
/// locks inside the Swift runtime library, where ThreadSanitizer cannot see it, so every
/// access under it would be reported as a race; glibc's mutex is understood by the sanitizer
/// and is the classic, well-measured choice.
final class StoreShard: @unchecked Sendable {
    // Safe to share: `storage` is only reached through `withLock`, between lock and unlock of
    // `mutex`, and both live in one heap block that is never moved or freed before `deinit`.

    /// The mutex and the storage, together in one block aligned to a cache line, so that
    /// threads working on different shards never share a line.
    private let block: UnsafeMutableRawPointer
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let storage: UnsafeMutablePointer<ShardStorage>
    /// The storage's budget, kept here too so that releasing a page after the lock reads no
    /// storage.
    private let budget: MemoryBudget

    private static let cacheLine = 64
    private static let storageOffset =
        (MemoryLayout<pthread_mutex_t>.size + MemoryLayout<ShardStorage>.alignment - 1)
        / MemoryLayout<ShardStorage>.alignment * MemoryLayout<ShardStorage>.alignment
    private static let blockSize =
        (storageOffset + MemoryLayout<ShardStorage>.size + cacheLine - 1) / cacheLine * cacheLine

    init(storage initial: ShardStorage) {
        budget = initial.budget
        block = UnsafeMutableRawPointer.allocate(byteCount: Self.blockSize, alignment: Self.cacheLine)
        mutex = block.initializeMemory(as: pthread_mutex_t.self, repeating: pthread_mutex_t(), count: 1)
        storage = (block + Self.storageOffset).initializeMemory(as: ShardStorage.self, repeating: initial, count: 1)
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        // Every page goes back to the budget, which may outlive the store's shards.
        for page in storage.pointee.allPageMemory {
            PageMemory.free(page.memory)
            budget.release(page.cost)
        }
        budget.release(storage.pointee.auxiliaryBytes)
        pthread_mutex_destroy(mutex)
        storage.deinitialize(count: 1)
        mutex.deinitialize(count: 1)
        block.deallocate()
    }

    /// Runs `body` on the shard's storage with its lock held. A page the body retired is
    /// freed, and its budget released, after the lock.
    func withLock<Value>(_ body: (inout ShardStorage) -> Value) -> Value {
        pthread_mutex_lock(mutex)
        let value = body(&storage.pointee)
        let retired = storage.pointee.retired
        storage.pointee.retired = nil
        pthread_mutex_unlock(mutex)
        if let retired {
            PageMemory.free(retired.memory)
            budget.release(retired.cost)
        }
        return value
    }
}
