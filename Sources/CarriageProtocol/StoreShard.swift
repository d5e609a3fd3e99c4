import Glibc

/// One shard of the store: a dictionary behind its own lock.
///
/// The lock is a `pthread_mutex_t` rather than `Synchronization.Mutex`: on Linux the latter
/// locks inside the Swift runtime library, where ThreadSanitizer cannot see it, so every
/// access under it would be reported as a race; glibc's mutex is understood by the sanitizer
/// and is the classic, well-measured choice.
///
/// Critical sections stay a few dictionary operations long: values are copied before the lock
/// is taken, and replaced or removed entries are handed back out of the critical section so
/// their memory is freed after the lock is released. The only allocations under the lock are
/// the dictionary's own growth and, on insertion of a new key, the copy of the key (at most
/// 250 bytes; copying it up front would cost every overwrite an allocation).
final class StoreShard: @unchecked Sendable {
    // Safe to share: `entries` is only reached through `withLock`, between lock and unlock of
    // `mutex`, and both live in one heap block that is never moved or freed before `deinit`.

    typealias Entries = [StoreKey: [UInt8]]

    /// The mutex and the dictionary's reference, together in one block aligned to a cache
    /// line, so that threads working on different shards never share a line.
    private let block: UnsafeMutableRawPointer
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let entries: UnsafeMutablePointer<Entries>

    private static let cacheLine = 64
    private static let entriesOffset =
        (MemoryLayout<pthread_mutex_t>.size + MemoryLayout<Entries>.alignment - 1)
        / MemoryLayout<Entries>.alignment * MemoryLayout<Entries>.alignment
    private static let blockSize =
        (entriesOffset + MemoryLayout<Entries>.size + cacheLine - 1) / cacheLine * cacheLine

    init() {
        block = UnsafeMutableRawPointer.allocate(byteCount: Self.blockSize, alignment: Self.cacheLine)
        mutex = block.initializeMemory(as: pthread_mutex_t.self, repeating: pthread_mutex_t(), count: 1)
        entries = (block + Self.entriesOffset).initializeMemory(as: Entries.self, repeating: [:], count: 1)
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        entries.deinitialize(count: 1)
        mutex.deinitialize(count: 1)
        block.deallocate()
    }

    /// Runs `body` on the dictionary with the shard's lock held.
    func withLock<Value, Failure: Error>(
        _ body: (inout Entries) throws(Failure) -> Value
    ) throws(Failure) -> Value {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&entries.pointee)
    }
}
