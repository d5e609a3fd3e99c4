import CarriagePosix

/// Why the daemon could not start, beyond the server's own errors.
enum DaemonError: Error, CustomStringConvertible {
    case pidFile(path: String, SystemError)
    case logFile(path: String, SystemError)
    /// Forking into the background failed.
    case detach(SystemError)
    /// The detached child ended before it said it was listening.
    case childExited

    var description: String {
        switch self {
        case .pidFile(let path, let error): return "cannot write --pid-file \(path): \(error.reason)"
        case .logFile(let path, let error): return "cannot open --log-file \(path): \(error.reason)"
        case .detach(let error): return "cannot detach: \(error)"
        case .childExited: return "the daemon exited before it was ready"
        }
    }
}
