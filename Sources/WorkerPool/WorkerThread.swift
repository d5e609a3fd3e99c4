import Glibc

/// Starting, naming and identifying the pool's pthreads.
enum WorkerThread {
    /// What a new thread needs; C owns it between `pthread_create` and the thread's entry.
    private final class StartContext {
        let name: String
        let index: Int
        let body: () -> Void
        init(name: String, index: Int, body: @escaping () -> Void) {
            self.name = name
            self.index = index
            self.body = body
        }
    }

    /// Holds the calling thread's worker index + 1 (0, the default, means "not a worker").
    private static let indexKey: pthread_key_t = {
        var key = pthread_key_t()
        let rc = pthread_key_create(&key, nil)
        precondition(rc == 0, "pthread_key_create failed: \(rc)")
        return key
    }()

    /// The calling thread's worker index, `nil` off every pool.
    static var currentIndex: Int? {
        let raw = Int(bitPattern: pthread_getspecific(indexKey))
        return raw == 0 ? nil : raw - 1
    }

    /// Starts a joinable thread named `name` that records `index` and then runs `body`.
    static func start(name: String, index: Int, body: @escaping () -> Void) throws(WorkerPoolError) -> pthread_t {
        _ = indexKey  // create the key before any worker can race to it
        // passRetained: C holds this reference until the entry point takes it back, once.
        let context = Unmanaged.passRetained(StartContext(name: name, index: index, body: body)).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { raw in
            let context = Unmanaged<StartContext>.fromOpaque(raw!).takeRetainedValue()
            pthread_setspecific(WorkerThread.indexKey, UnsafeRawPointer(bitPattern: context.index + 1))
            WorkerThread.setCurrentName(context.name)
            context.body()
            return nil
        }, context)
        guard rc == 0 else {
            Unmanaged<StartContext>.fromOpaque(context).release()
            throw .threadStartFailed(index: index, errno: rc)
        }
        return thread
    }

    /// Names the calling thread for `top -H` and `/proc/PID/task/*/comm`. Glibc's Swift
    /// module hides `pthread_setname_np` (it needs `_GNU_SOURCE`), so this writes the
    /// name where that call would. The kernel keeps 15 bytes; naming is best effort.
    private static func setCurrentName(_ name: String) {
        let fd = open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        // No trailing newline: the kernel would keep it as part of the name.
        let bytes = Array(name.utf8.prefix(15))
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }
}
