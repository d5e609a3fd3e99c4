/// Why libevent could not give us what a loop needs.
public enum EventLoopError: Error, Equatable, CustomStringConvertible {
    /// No backend offers the features asked for (edge-triggered events and EV_CLOSED
    /// need epoll, i.e. Linux).
    case unsupported(features: String)
    /// libevent could not allocate an event base, event or listener.
    case cannotCreate(String, SystemError)

    public var description: String {
        switch self {
        case .unsupported(let features):
            return "libevent has no backend with \(features) on this system (epoll is needed)"
        case .cannotCreate(let what, let error):
            return "libevent could not create \(what): \(error.reason)"
        }
    }
}
