/// Why a run could not start or could not reach its server. Each has a one-line message;
/// the command prints it after `carriage-load: ` and exits non-zero, never with a trace.
enum LoadError: Error, CustomStringConvertible {
    /// A flag value that cannot work (bad request line, too many connections for the fd limit...).
    case badOption(String)
    /// Every connection attempt failed: nothing was measured.
    case unreachable(String)
    /// The machine refused a resource the run needs (event base, thread).
    case system(String)

    var description: String {
        switch self {
        case .badOption(let message), .unreachable(let message), .system(let message):
            return message
        }
    }

    /// The process exit status for this error: 64 (EX_USAGE) for flags, 2 otherwise.
    var exitStatus: Int32 {
        switch self {
        case .badOption: return 64
        case .unreachable, .system: return 2
        }
    }
}
