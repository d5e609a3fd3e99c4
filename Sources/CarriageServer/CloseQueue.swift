import CLibevent
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
    let wakeFD: Int32

    init(capacity: Int) throws(ServerError) {
        closing.reserveCapacity(capacity)
        do {
            wakeFD = try syscallBlocking("eventfd") { eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC)) }
        } catch {
            mutex.deallocate()
            throw .system(error)
        }
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        Socket.close(wakeFD)
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
        if wasEmpty { wake() }
    }

    /// Makes the loop's wake event fire.
    func wake() {
        var one: UInt64 = 1
        _ = try? syscall("write") { write(wakeFD, &one, 8) }
    }

    /// On the loop: clears the eventfd and moves the waiting connections into `into`.
    func drain(into taken: inout [Connection]) {
        var count: UInt64 = 0
        _ = try? syscall("read") { read(wakeFD, &count, 8) }
        pthread_mutex_lock(mutex)
        taken.append(contentsOf: closing)  // `taken` has the same reserved capacity
        closing.removeAll(keepingCapacity: true)
        pthread_mutex_unlock(mutex)
    }
}
