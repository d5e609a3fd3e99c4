import CarriagePosix
import Glibc

/// `--daemon`: fork and `setsid` before any thread starts. The parent waits on a pipe
/// until the child says it is listening (or why it could not), so that a script that
/// runs `carriaged --daemon` knows when it can connect, and the exit status tells.
final class Daemonizer {
    /// The child's end of the pipe to the waiting parent; -1 once it has been told.
    private var readyFD: Int32

    private init(readyFD: Int32) {
        self.readyFD = readyFD
    }

    /// Forks. Returns in the child only; the parent exits with the child's verdict.
    static func detach(logFile: String?) -> Daemonizer {
        var fds: [Int32] = [0, 0]
        let pid: pid_t
        do {
            _ = try syscallBlocking("pipe") { pipe(&fds) }
            pid = try syscallBlocking("fork") { fork() }
        } catch {
            fail(DaemonError.detach(error))
        }
        if pid > 0 {
            Descriptor.close(fds[1])
            waitForChild(readFD: fds[0], pid: pid)
        }
        Descriptor.close(fds[0])
        setsid()
        // A daemon holds no directory: the one it was started in may need unmounting.
        // (Relative paths were made absolute before.)
        _ = chdir("/")
        // A daemon keeps nothing of its launcher's but standard input, output and
        // error: an inherited descriptor (a supervisor's pipe or socket) held open for
        // the daemon's life would make the launcher wait for an end that never comes.
        for fd in Descriptor.openDescriptors() where fd > 2 && fd != fds[1] { Descriptor.close(fd) }
        let daemonizer = Daemonizer(readyFD: fds[1])
        if let failure = redirectStandardStreams(to: logFile) {
            daemonizer.failed("\(failure)")
            exit(1)
        }
        return daemonizer
    }

    /// In the child: tells the parent to exit 0 with `message` on its stderr.
    func ready(_ message: String) { report("ok " + message) }

    /// In the child: tells the parent to exit 1 with `message` on its stderr.
    func failed(_ message: String) { report("error " + message) }

    private func report(_ message: String) {
        guard readyFD >= 0 else { return }
        try? Descriptor.writeAll(readyFD, Array((message + "\n").utf8))
        Descriptor.close(readyFD)
        readyFD = -1
    }

    private static func waitForChild(readFD: Int32, pid: pid_t) -> Never {
        let received = (try? Descriptor.readToEnd(readFD)) ?? []
        var text = String(decoding: received, as: UTF8.self)
        while text.hasSuffix("\n") { text.removeLast() }
        if text.hasPrefix("ok ") {
            StandardError.write(line: "carriaged: running as pid \(pid), \(text.dropFirst(3))")
            exit(0)
        }
        if text.hasPrefix("error ") { fail(String(text.dropFirst(6))) }
        fail(DaemonError.childExited)
    }

    /// Standard input from /dev/null; output and errors to `logFile`, or discarded.
    /// Returns why `logFile` could not be opened.
    private static func redirectStandardStreams(to logFile: String?) -> DaemonError? {
        let null = try? Descriptor.open("/dev/null", O_RDWR)
        if let null { dup2(null, 0) }
        var target = null
        if let logFile {
            do {
                target = try Descriptor.open(logFile, O_WRONLY | O_CREAT | O_APPEND)
            } catch {
                return .logFile(path: logFile, error)
            }
        }
        if let target {
            dup2(target, 1)
            dup2(target, 2)
        }
        for fd in Set([null, target].compactMap { $0 }) where fd > 2 { Descriptor.close(fd) }
        return nil
    }

    static func fail(_ message: some CustomStringConvertible) -> Never {
        StandardError.write(line: "carriaged: \(message)")
        exit(1)
    }
}
