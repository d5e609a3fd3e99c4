import Glibc
import CarriagePosix
import WorkerPool

/// Why the server could not start, in words a user can act on. Each case keeps the
/// typed error it comes from.
public enum ServerError: Error, Equatable, CustomStringConvertible {
    case addressInUse(host: String, port: Int)
    case permissionDenied(host: String, port: Int)
    case cannotBind(host: String, port: Int, SystemError)
    case cannotResolve(host: String, AddressError)
    /// A value the user gave is out of range; the message names the flag.
    case invalidConfiguration(String)
    case eventLoop(EventLoopError)
    case system(SystemError)
    case workers(WorkerPoolError)
    /// `--snapshot`: the file cannot be loaded, or its directory cannot be written.
    case snapshot(SnapshotError)
    /// `--tls-cert`, `--tls-key` or `--tls-ca` would not load.
    case tls(TLSError)
    /// A non-loopback address without `--auth-file` and without `--insecure`.
    case unprotected(host: String, port: Int)
    /// `--metrics-port` (no login) on a non-loopback address without `--insecure`.
    case unprotectedMetrics(host: String)

    public var description: String {
        switch self {
        case .addressInUse(let host, let port):
            return "cannot listen on \(host):\(port): the address is already in use (another server running? pick another --port)"
        case .permissionDenied(let host, let port):
            return "cannot listen on \(host):\(port): permission denied (ports below 1024 need privileges)"
        case .cannotBind(let host, let port, let error) where error.errno == EADDRNOTAVAIL:
            return "cannot listen on \(host):\(port): the address is not one of this machine's"
        case .cannotBind(let host, let port, let error):
            return "cannot listen on \(host):\(port): \(error.reason)"
        case .cannotResolve(let host, let error):
            return "cannot resolve --host \(host): \(error.reason)"
        case .invalidConfiguration(let message):
            return message
        case .eventLoop(let error):
            return "event loop: \(error)"
        case .system(let error):
            return "\(error)"
        case .workers(let error):
            return "worker pool: \(error)"
        case .snapshot(let error):
            return "\(error)"
        case .tls(let error):
            return "\(error)"
        case .unprotected(let host, let port):
            return "refusing to serve \(Socket.endpoint(host: host, port: port)) unprotected: it is not a loopback address, so anyone who reaches it could read, overwrite and flush every key. Add --auth-file PATH (user:password lines) or --tls-verify-clients with --tls-ca, or --insecure to serve it without protection anyway"
        case .unprotectedMetrics(let host):
            return "refusing to serve --metrics-port on \(host): it has no login and \(host) is not a loopback address. Add --insecure to serve it anyway, or drop --metrics-port"
        }
    }
}
