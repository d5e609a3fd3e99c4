import CarriagePosix
import Glibc

/// Connections the workers have finished with, waiting for the loop thread to free
/// them, and the eventfd that wakes the loop for them (and for shutdown requests).
///
/// The list's capacity is reserved once for every connection there can be, so an
/// append under the lock never allocates.
///
/// `@unchecked Sendable`: `closing` is only touched with `mutex` held.
final class CloseQueue: @unchecked Sendable {
    /// Allocated once, never moved. Protects `closing`.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private var closing: [Connection] = []
    let wakeup: LoopWakeup

    init(capacity: Int) throws(SystemError) {
        closing.reserveCapacity(capacity)
        do {
            wakeup = try LoopWakeup()
        } catch {
            mutex.deallocate()
            throw error
        }
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// From a worker: hand `connection` (state `closed`) to the loop.
    func push(_ connection: Connection) {
        pthread_mutex_lock(mutex)
        closing.append(connection)
        let wasEmpty = closing.count == 1
        pthread_mutex_unlock(mutex)
        // One wake-up covers everything pushed until the loop drains the list.
        if wasEmpty { wakeup.wake() }
    }

    /// On the loop: clears the wake-up and moves the waiting connections into `taken`.
    func drain(into taken: inout [Connection]) {
        wakeup.clear()
        pthread_mutex_lock(mutex)
        taken.append(contentsOf: closing)  // `taken` has the same reserved capacity
        closing.removeAll(keepingCapacity: true)
        pthread_mutex_unlock(mutex)
    }
}
