import CarriagePosix
import CarriageProtocol

/// Why the daemon could not start, beyond the server's own errors.
enum DaemonError: Error, CustomStringConvertible {
    case pidFile(path: String, SystemError)
    case logFile(path: String, SystemError)
    /// Another process holds the `--pid-file` lock; `holder` is the pid written in it.
    case pidFileLocked(path: String, holder: String)
    /// Forking into the background failed.
    case detach(SystemError)
    /// The detached child ended before it said it was listening.
    case childExited
    /// `--auth-file` cannot be read.
    case authFileUnreadable(path: String, SystemError)
    /// `--auth-file` holds a line that is not `user:password`, or no user.
    case authFileMalformed(path: String, CredentialsError)

    var description: String {
        switch self {
        case .pidFile(let path, let error): return "cannot write --pid-file \(path): \(error.reason)"
        case .logFile(let path, let error): return "cannot open --log-file \(path): \(error.reason)"
        case .pidFileLocked(let path, let holder):
            return "--pid-file \(path) is held by a running carriaged (pid \(holder)): stop it first, or give this one another --pid-file"
        case .detach(let error): return "cannot detach: \(error)"
        case .childExited: return "the daemon exited before it was ready"
        case .authFileUnreadable(let path, let error): return "cannot read --auth-file \(path): \(error.reason)"
        case .authFileMalformed(let path, let error): return "--auth-file \(path): \(error)"
        }
    }
}
