import CarriagePosix
import Glibc

/// `--pid-file`: this process's pid, written at start and locked (`flock`) for the
/// process's life, so that a second daemon given the same file refuses to start instead of
/// overwriting it; removed at exit. A file left by a daemon that died is not locked, and is
/// taken over.
final class PidFile {
    let path: String
    /// Held open: the lock lives as long as it does.
    private let fd: Int32

    private init(path: String, fd: Int32) {
        self.path = path
        self.fd = fd
    }

    /// Locks `path` and writes this process's pid into it; the error names the file, and
    /// the pid of the daemon that holds it.
    static func lock(at path: String) throws(DaemonError) -> PidFile {
        let fd: Int32
        do {
            fd = try Descriptor.open(path, O_RDWR | O_CREAT)
        } catch {
            throw .pidFile(path: path, error)
        }
        let locked: Bool
        do throws(SystemError) {
            switch try syscall("flock", { flock(fd, LOCK_EX | LOCK_NB) }) {
            case .done: locked = true
            case .wouldBlock: locked = false
            }
            if locked {
                _ = try syscallBlocking("ftruncate") { ftruncate(fd, 0) }
                try Descriptor.writeAll(fd, Array("\(getpid())\n".utf8))
            }
        } catch {
            Descriptor.close(fd)
            throw .pidFile(path: path, error)
        }
        guard locked else {
            let holder = (try? Descriptor.readToEnd(fd)).map { String(decoding: $0, as: UTF8.self) } ?? ""
            Descriptor.close(fd)
            throw .pidFileLocked(path: path, holder: holder.split(separator: "\n").first.map(String.init) ?? "?")
        }
        return PidFile(path: path, fd: fd)
    }

    /// Removes the file, then lets the lock go.
    func remove() {
        unlink(path)
        Descriptor.close(fd)
    }
}
