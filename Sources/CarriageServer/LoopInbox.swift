import CarriagePosix
import Glibc

/// What other threads hand one loop thread, and the eventfd that wakes it for them:
/// connections the workers have finished with (to free), sockets the accepting loop
/// dealt to this loop (to watch), and shutdown requests (the wake-up alone).
///
/// Both lists' capacity is reserved once for every connection there can be, so an append
/// under the lock never allocates.
///
/// `@unchecked Sendable`: `closing` and `accepted` are only touched with `mutex` held.
final class LoopInbox: @unchecked Sendable {
    /// Allocated once, never moved. Protects `closing` and `accepted`.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private var closing: [Connection] = []
    private var accepted: [(fd: Int32, kind: ProtocolKind)] = []
    let wakeup: LoopWakeup

    init(capacity: Int) throws(SystemError) {
        closing.reserveCapacity(capacity)
        accepted.reserveCapacity(capacity)
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

    /// From a worker: hand `connection` (state `closed`) to its loop.
    func push(closing connection: Connection) {
        pthread_mutex_lock(mutex)
        closing.append(connection)
        let wasEmpty = closing.count + accepted.count == 1
        pthread_mutex_unlock(mutex)
        // One wake-up covers everything pushed until the loop drains the lists.
        if wasEmpty { wakeup.wake() }
    }

    /// From the accepting loop: a new socket for this loop to watch.
    func push(accepted fd: Int32, kind: ProtocolKind) {
        pthread_mutex_lock(mutex)
        accepted.append((fd, kind))
        let wasEmpty = closing.count + accepted.count == 1
        pthread_mutex_unlock(mutex)
        if wasEmpty { wakeup.wake() }
    }

    /// On the loop: clears the wake-up and moves what waits into `closed` and `sockets`.
    func drain(closing closed: inout [Connection], accepted sockets: inout [(fd: Int32, kind: ProtocolKind)]) {
        wakeup.clear()
        pthread_mutex_lock(mutex)
        closed.append(contentsOf: closing)  // the same reserved capacity
        sockets.append(contentsOf: accepted)
        closing.removeAll(keepingCapacity: true)
        accepted.removeAll(keepingCapacity: true)
        pthread_mutex_unlock(mutex)
    }
}
