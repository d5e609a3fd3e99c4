import CarriagePosix
import Glibc

/// `--pid-file`: written once the server listens, removed when it exits.
struct PidFile {
    let path: String

    /// Writes this process's pid; the error names the file.
    static func create(at path: String) throws(DaemonError) -> PidFile {
        do {
            let fd = try Descriptor.open(path, O_WRONLY | O_CREAT | O_TRUNC)
            defer { Descriptor.close(fd) }
            try Descriptor.writeAll(fd, Array("\(getpid())\n".utf8))
        } catch {
            throw .pidFile(path: path, error)
        }
        return PidFile(path: path)
    }

    func remove() {
        unlink(path)
    }
}
