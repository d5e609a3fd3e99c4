import Glibc

/// `--pid-file`: written once the server listens, removed when it exits.
struct PidFile {
    let path: String

    /// Writes this process's pid; throws a message naming the file on failure.
    static func create(at path: String) throws(DaemonError) -> PidFile {
        guard let file = fopen(path, "w") else {
            throw .pidFile(path: path, reason: String(cString: strerror(errno)))
        }
        fputs("\(getpid())\n", file)
        fclose(file)
        return PidFile(path: path)
    }

    func remove() {
        unlink(path)
    }
}
