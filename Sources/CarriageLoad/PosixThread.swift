import Glibc

/// The closure a new thread runs, boxed so it can travel through `pthread_create`'s
/// `void *` argument.
private final class ThreadStart {
    let name: String
    let body: @Sendable () -> Void

    init(name: String, body: @escaping @Sendable () -> Void) {
        self.name = name
        self.body = body
    }
}

/// A joinable pthread running a Swift closure (the load threads; no Foundation).
final class PosixThread {
    private let handle: pthread_t

    /// Starts `body` on a new thread named `name` (shown by `top -H`).
    init(name: String, _ body: @escaping @Sendable () -> Void) throws(LoadError) {
        // Ownership: passRetained. The new thread owns the box and releases it exactly once
        // (takeRetainedValue in the entry function); if pthread_create fails, no thread
        // exists, and this init releases it instead.
        let context = Unmanaged.passRetained(ThreadStart(name: name, body: body)).toOpaque()
        var handle = pthread_t()
        let status = pthread_create(&handle, nil, { argument in
            let start = Unmanaged<ThreadStart>.fromOpaque(argument!).takeRetainedValue()
            PosixThread.nameCurrentThread(start.name)
            start.body()
            return nil
        }, context)
        guard status == 0 else {
            Unmanaged<ThreadStart>.fromOpaque(context).release()
            throw .system("cannot start a thread: \(Syscall.describe(status))")
        }
        self.handle = handle
    }

    /// Waits for the thread to end.
    func join() {
        _ = pthread_join(handle, nil)
    }

    /// Glibc's Swift module hides `pthread_setname_np`; the kernel takes the name (15 bytes
    /// at most) from a write to /proc/thread-self/comm instead. Best effort.
    private static func nameCurrentThread(_ name: String) {
        let fd = open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        let bytes = Array(name.utf8.prefix(15))
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        Syscall.close(fd)
    }
}
