/// Why the server could not start, in words a user can act on.
public enum ServerError: Error, Equatable, CustomStringConvertible {
    case addressInUse(host: String, port: Int)
    case permissionDenied(host: String, port: Int)
    case cannotBind(host: String, port: Int, reason: String)
    case cannotResolve(host: String, reason: String)
    case invalidPort(Int)
    case invalidConfiguration(String)
    case eventLoop(String)
    case system(SystemError)
    case workers(String)

    public var description: String {
        switch self {
        case .addressInUse(let host, let port):
            return "cannot listen on \(host):\(port): the address is already in use (another server running? pick another --port)"
        case .permissionDenied(let host, let port):
            return "cannot listen on \(host):\(port): permission denied (ports below 1024 need privileges)"
        case .cannotBind(let host, let port, let reason):
            return "cannot listen on \(host):\(port): \(reason)"
        case .cannotResolve(let host, let reason):
            return "cannot resolve --host \(host): \(reason)"
        case .invalidPort(let port):
            return "invalid port \(port): use 0 to 65535"
        case .invalidConfiguration(let message):
            return message
        case .eventLoop(let message):
            return "event loop: \(message)"
        case .system(let error):
            return "\(error)"
        case .workers(let message):
            return "worker pool: \(message)"
        }
    }
}
