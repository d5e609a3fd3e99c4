import Glibc

/// `--daemon`: fork and `setsid` before any thread starts. The parent waits on a pipe
/// until the child says it is listening (or why it could not), so that a script that
/// runs `carriaged --daemon` knows when it can connect, and the exit status tells.
struct Daemonizer {
    /// The child's end of the pipe to the waiting parent.
    private var readyFD: Int32

    /// Forks. Returns in the child only; the parent exits with the child's verdict.
    static func detach(logFile: String?) -> Daemonizer {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { fail("pipe failed: \(String(cString: strerror(errno)))") }
        let pid = fork()
        if pid < 0 { fail("fork failed: \(String(cString: strerror(errno)))") }
        if pid > 0 {
            close(fds[1])
            waitForChild(readFD: fds[0], pid: pid)
        }
        close(fds[0])
        setsid()
        closeInheritedDescriptors(keeping: fds[1])
        var daemonizer = Daemonizer(readyFD: fds[1])
        if let failure = redirectStandardStreams(to: logFile) {
            daemonizer.failed(failure)
            exit(1)
        }
        return daemonizer
    }

    /// In the child: tells the parent to exit 0 with `message` on its stderr.
    mutating func ready(_ message: String) { report("ok " + message) }

    /// In the child: tells the parent to exit 1 with `message` on its stderr.
    mutating func failed(_ message: String) { report("error " + message) }

    private mutating func report(_ message: String) {
        guard readyFD >= 0 else { return }
        let line = Array((message + "\n").utf8)
        _ = line.withUnsafeBytes { write(readyFD, $0.baseAddress, $0.count) }
        close(readyFD)
        readyFD = -1
    }

    private static func waitForChild(readFD: Int32, pid: pid_t) -> Never {
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 512)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(readFD, $0.baseAddress, $0.count) }
            if n > 0 { received += chunk[0..<n]; continue }
            if n < 0 && errno == EINTR { continue }
            break
        }
        let text = String(decoding: received, as: UTF8.self).trimmingSuffixNewline
        if text.hasPrefix("ok ") {
            StandardError.line("carriaged: running as pid \(pid), \(text.dropFirst(3))")
            exit(0)
        }
        fail(text.hasPrefix("error ") ? String(text.dropFirst(6)) : "the daemon exited before it was ready")
    }

    /// A daemon keeps nothing of its launcher's but standard input, output and error:
    /// an inherited descriptor (a supervisor's pipe or socket) held open for the
    /// daemon's life would make the launcher wait for an end that never comes.
    private static func closeInheritedDescriptors(keeping kept: Int32) {
        var open: [Int32] = []
        if let dir = opendir("/proc/self/fd") {
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                if let fd = Int32(name) { open.append(fd) }
            }
            closedir(dir)  // its own fd was listed too; closing it again below is harmless
        }
        for fd in open where fd > 2 && fd != kept { close(fd) }
    }

    /// Standard input from /dev/null; output and errors to `logFile`, or discarded.
    /// Returns why `logFile` could not be opened.
    private static func redirectStandardStreams(to logFile: String?) -> String? {
        let null = open("/dev/null", O_RDWR)
        if null >= 0 { dup2(null, 0) }
        var target = null
        if let logFile {
            target = open(logFile, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
            if target < 0 { return "\(DaemonError.logFile(path: logFile, reason: String(cString: strerror(errno))))" }
        }
        if target >= 0 {
            dup2(target, 1)
            dup2(target, 2)
        }
        for fd in Set([null, target]) where fd > 2 { close(fd) }
        return nil
    }

    static func fail(_ message: String) -> Never {
        StandardError.line("carriaged: \(message)")
        exit(1)
    }
}

extension String {
    fileprivate var trimmingSuffixNewline: String {
        var text = self
        while text.hasSuffix("\n") { text.removeLast() }
        return text
    }
}
