import CarriagePosix
import Glibc

/// `--log-file`: the file standard error (and, when detached, standard output) is written
/// to, and its reopening on SIGHUP, after logrotate has moved it away.
struct LogFile {
    let path: String
    /// Standard output goes there too (a detached daemon's).
    let takesStandardOutput: Bool

    /// Opens `path` (appending, created if missing) onto the standard streams.
    func open() throws(SystemError) {
        let fd = try Descriptor.open(path, O_WRONLY | O_CREAT | O_APPEND)
        // dup2 replaces the streams at once: a log line is written whole to one file or
        // the other, never lost between.
        if takesStandardOutput { dup2(fd, 1) }
        dup2(fd, 2)
        Descriptor.close(fd)
    }
}
