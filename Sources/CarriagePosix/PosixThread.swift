import Glibc

/// A joinable pthread running a Swift closure, named for `top -H` (the loop, load and
/// benchmark threads; `WorkerPool` starts its own, having no dependencies).
package final class PosixThread {
    /// What a new thread needs; C owns it between `pthread_create` and the entry point.
    private final class Start {
        let name: String
        let body: () -> Void
        init(name: String, body: @escaping () -> Void) {
            self.name = name
            self.body = body
        }
    }

    private let handle: pthread_t
    private var joined = false

    /// Starts `body` on a new thread named `name` (15 bytes kept).
    package init(name: String, _ body: @escaping @Sendable () -> Void) throws(SystemError) {
        // passRetained: the new thread releases it exactly once (takeRetainedValue); if
        // pthread_create fails no thread exists, and this init releases it instead.
        let context = Unmanaged.passRetained(Start(name: name, body: body)).toOpaque()
        var handle = pthread_t()
        let status = pthread_create(&handle, nil, { argument in
            let start = Unmanaged<Start>.fromOpaque(argument!).takeRetainedValue()
            PosixThread.nameCurrentThread(start.name)
            start.body()
            return nil
        }, context)
        guard status == 0 else {
            Unmanaged<Start>.fromOpaque(context).release()
            throw SystemError(call: "pthread_create", errno: status)
        }
        self.handle = handle
    }

    deinit {
        if !joined { pthread_detach(handle) }
    }

    /// Sets the thread's scheduling policy (at the normal priority), from any thread.
    package func setScheduling(_ policy: SchedulingPolicy) throws(SystemError) {
        var parameters = sched_param(sched_priority: 0)
        let status = pthread_setschedparam(handle, policy.kernelValue, &parameters)
        guard status == 0 else { throw SystemError(call: "pthread_setschedparam", errno: status) }
    }

    /// Waits for the thread to end. Once.
    package func join() {
        guard !joined else { return }
        joined = true
        _ = pthread_join(handle, nil)
    }

    /// Names the calling thread. Glibc's Swift module hides `pthread_setname_np` (it
    /// needs `_GNU_SOURCE`), so this writes where that call would; best effort. No
    /// trailing newline: the kernel would keep it as part of the name.
    package static func nameCurrentThread(_ name: String) {
        guard let fd = try? Descriptor.open("/proc/thread-self/comm", O_WRONLY) else { return }
        try? Descriptor.writeAll(fd, Array(name.utf8.prefix(15)))
        Descriptor.close(fd)
    }

    /// The calling thread's name, as `top -H` shows it.
    package static var currentName: String {
        guard let fd = try? Descriptor.open("/proc/thread-self/comm", O_RDONLY) else { return "?" }
        defer { Descriptor.close(fd) }
        let bytes = (try? Descriptor.readToEnd(fd)) ?? []
        return String(decoding: bytes.prefix { $0 != UInt8(ascii: "\n") }, as: UTF8.self)
    }

    /// The threads of this process: the entries of /proc/self/task.
    package static func countInProcess() -> Int {
        guard let dir = opendir("/proc/self/task") else { return -1 }
        defer { closedir(dir) }
        var count = 0
        while let entry = readdir(dir) {
            if entry.pointee.d_name.0 != UInt8(ascii: ".") { count += 1 }
        }
        return count
    }
}
