/// Why the daemon could not start, beyond the server's own errors.
enum DaemonError: Error, CustomStringConvertible {
    case pidFile(path: String, reason: String)
    case logFile(path: String, reason: String)

    var description: String {
        switch self {
        case .pidFile(let path, let reason): return "cannot write --pid-file \(path): \(reason)"
        case .logFile(let path, let reason): return "cannot open --log-file \(path): \(reason)"
        }
    }
}
