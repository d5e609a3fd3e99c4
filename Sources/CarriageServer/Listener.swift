import CLibevent
import Glibc

/// The listening socket, as a libevent `evconnlistener`: it accepts on the loop
/// thread and hands each new non-blocking fd to `accepted`.
final class Listener {
    private final class Callbacks {
        let accepted: (Int32) -> Void
        let failed: (Int32) -> Void
        init(accepted: @escaping (Int32) -> Void, failed: @escaping (Int32) -> Void) {
            self.accepted = accepted
            self.failed = failed
        }
        static func from(context: UnsafeMutableRawPointer?) -> Callbacks {
            Unmanaged<Callbacks>.fromOpaque(context!).takeUnretainedValue()
        }
    }

    private let listener: OpaquePointer
    private let callbacks: Callbacks
    /// The port bound (the kernel's choice when asked for 0).
    let port: Int

    /// Binds `host:port` and starts accepting. `failed` gets the errno of a failed
    /// `accept` (EMFILE, ENFILE, ...).
    init(loop: EventLoop, host: String, port: Int, backlog: Int32,
         accepted: @escaping (Int32) -> Void, failed: @escaping (Int32) -> Void) throws(ServerError) {
        let callbacks = Callbacks(accepted: accepted, failed: failed)
        // passUnretained: this Listener owns the callbacks and frees the C listener first.
        let context = Unmanaged.passUnretained(callbacks).toOpaque()
        let address = try Listener.resolve(host: host, port: port)
        let flags = UInt32(LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC)
        let made: OpaquePointer? = address.withUnsafeBytes { raw in
            evconnlistener_new_bind(loop.base, { _, fd, _, _, context in
                Callbacks.from(context: context).accepted(fd)
            }, context, flags, backlog, raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), Int32(raw.count))
        }
        guard let listener = made else {
            let error = errno
            switch error {
            case EADDRINUSE: throw .addressInUse(host: host, port: port)
            case EACCES: throw .permissionDenied(host: host, port: port)
            case EADDRNOTAVAIL: throw .cannotBind(host: host, port: port, reason: "the address is not one of this machine's")
            default: throw .cannotBind(host: host, port: port, reason: String(cString: strerror(error)))
            }
        }
        evconnlistener_set_error_cb(listener) { _, context in
            Callbacks.from(context: context).failed(errno)
        }
        self.listener = listener
        self.callbacks = callbacks
        do {
            self.port = try Socket.localPort(evconnlistener_get_fd(listener))
        } catch {
            evconnlistener_free(listener)
            throw .cannotBind(host: host, port: port, reason: "\(error)")
        }
    }

    deinit {
        evconnlistener_free(listener)  // closes the listening socket too
    }

    /// Stops accepting for now (the fd stays open; connections wait in the backlog).
    func disable() { evconnlistener_disable(listener) }

    func enable() { evconnlistener_enable(listener) }

    /// The `sockaddr` bytes for a numeric or named host.
    private static func resolve(host: String, port: Int) throws(ServerError) -> [UInt8] {
        guard (0...65535).contains(port) else { throw .invalidPort(port) }
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        var result: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &result)
        guard rc == 0, let first = result else {
            throw .cannotResolve(host: host, reason: String(cString: gai_strerror(rc)))
        }
        defer { freeaddrinfo(result) }
        return Array(UnsafeRawBufferPointer(start: first.pointee.ai_addr, count: Int(first.pointee.ai_addrlen)))
    }
}
