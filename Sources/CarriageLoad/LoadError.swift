import CarriagePosix

/// Why a run could not start or could not reach its server. Each has a one-line message;
/// the command prints it after `carriage-load: ` and exits non-zero, never with a trace.
enum LoadError: Error, CustomStringConvertible {
    /// A flag value that cannot work (bad request line, too many connections for the fd limit...).
    case badOption(String)
    /// Every connection attempt failed: nothing was measured. The first failure, if any.
    case unreachable(address: String, SystemError?)
    /// libevent refused an event base or an event.
    case eventLoop(EventLoopError)
    /// A load thread could not be started.
    case thread(SystemError)

    var description: String {
        switch self {
        case .badOption(let message):
            return message
        case .unreachable(let address, let error):
            return "cannot connect to \(address): \(error?.reason ?? "no connection")"
        case .eventLoop(let error):
            return "\(error)"
        case .thread(let error):
            return "cannot start a load thread: \(error)"
        }
    }

    /// The process exit status for this error: 64 (EX_USAGE) for flags, 2 otherwise.
    var exitStatus: Int32 {
        switch self {
        case .badOption: return 64
        case .unreachable, .eventLoop, .thread: return 2
        }
    }
}
