import CarriagePosix
import Glibc

/// Writes a snapshot every `--snapshot-interval` seconds, on a thread of its own
/// (`snapshot`): a write reads the whole store, and neither a loop (its connections would
/// wait) nor a worker (its requests would) should spend that long on it.
///
/// `@unchecked Sendable`: `state` is read and written only with `mutex` held; the
/// pointers never change after `init`, and `thread` is touched only by the thread that
/// calls `start` and `stop`.
final class Snapshotter: @unchecked Sendable {
    private enum State {
        case running
        case stopping
    }

    private let intervalSeconds: Int
    private let write: @Sendable () -> Void
    // Allocated once in `init`, never moved, destroyed in `deinit`.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    /// Broadcast by `stop` (the only event besides the timeout).
    private let stopped = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    // --- Protected by `mutex`. ---
    private var state = State.running
    // --- End. ---
    private var thread: PosixThread?

    init(intervalSeconds: Int, write: @escaping @Sendable () -> Void) {
        self.intervalSeconds = intervalSeconds
        self.write = write
        pthread_mutex_init(mutex, nil)
        // Deadlines on the monotonic clock: a change of the wall clock moves no snapshot.
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(stopped, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(stopped)
        pthread_mutex_destroy(mutex)
        stopped.deallocate()
        mutex.deallocate()
    }

    func start() throws(SystemError) {
        thread = try PosixThread(name: "snapshot") { [self] in self.run() }
    }

    /// Stops the thread, waiting for a write under way to finish.
    func stop() {
        pthread_mutex_lock(mutex)
        state = .stopping
        pthread_mutex_unlock(mutex)
        pthread_cond_broadcast(stopped)
        thread?.join()
        thread = nil
    }

    private func run() {
        var deadline = Self.now(plus: intervalSeconds)
        pthread_mutex_lock(mutex)
        while state == .running {
            // Re-checked after every wake-up: spurious ones and the deadline alike.
            if pthread_cond_timedwait(stopped, mutex, &deadline) == ETIMEDOUT && state == .running {
                pthread_mutex_unlock(mutex)
                write()
                pthread_mutex_lock(mutex)
                deadline = Self.now(plus: intervalSeconds)
            }
        }
        pthread_mutex_unlock(mutex)
    }

    private static func now(plus seconds: Int) -> timespec {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        now.tv_sec += seconds
        return now
    }
}
