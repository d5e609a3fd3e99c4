import CLibevent
import Glibc

/// A listening TCP socket, as a libevent `evconnlistener`: it accepts on the loop
/// thread and hands each new non-blocking, close-on-exec fd to `accepted`.
package final class Listener {
    /// Why a listener could not be made.
    package enum Failure: Error {
        case resolve(AddressError)
        /// Binding or listening failed (libevent's listener reports it through errno).
        case bind(SystemError)
    }

    private final class Callbacks {
        let accepted: (Int32) -> Void
        let failed: (SystemError) -> Void
        init(accepted: @escaping (Int32) -> Void, failed: @escaping (SystemError) -> Void) {
            self.accepted = accepted
            self.failed = failed
        }
        /// The one way back from the listener's context pointer.
        static func from(context: UnsafeMutableRawPointer?) -> Callbacks {
            Unmanaged<Callbacks>.fromOpaque(context!).takeUnretainedValue()
        }
    }

    private let listener: OpaquePointer
    private let callbacks: Callbacks
    /// The port bound (the kernel's choice when asked for 0).
    package let port: Int
    /// Whether the address bound is a loopback one (127.0.0.0/8, ::1, or IPv4-mapped
    /// 127.x): only this machine can reach it.
    package let isLoopback: Bool

    /// Binds `host:port` and starts accepting. `failed` gets a failed `accept` (EMFILE,
    /// ENFILE, ...).
    package init(loop: EventLoop, host: String, port: Int, backlog: Int32,
                 accepted: @escaping (Int32) -> Void, failed: @escaping (SystemError) -> Void) throws(Failure) {
        let callbacks = Callbacks(accepted: accepted, failed: failed)
        // passUnretained: this Listener owns the callbacks and frees the C listener first.
        let context = Unmanaged.passUnretained(callbacks).toOpaque()
        let address: SocketAddress
        do {
            address = try SocketAddress(host: host, port: port, passive: true)
        } catch {
            throw .resolve(error)
        }
        let flags = UInt32(LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC)
        let made: OpaquePointer? = address.withSockaddr { sockaddr, length in
            evconnlistener_new_bind(loop.base, { _, fd, _, _, context in
                Callbacks.from(context: context).accepted(fd)
            }, context, flags, backlog, sockaddr, Int32(length))
        }
        guard let listener = made else { throw .bind(lastErrno("bind")) }
        evconnlistener_set_error_cb(listener) { _, context in
            Callbacks.from(context: context).failed(lastErrno("accept"))
        }
        self.listener = listener
        self.callbacks = callbacks
        do {
            let fd = evconnlistener_get_fd(listener)
            self.port = try Socket.localPort(fd)
            self.isLoopback = try Socket.isLoopback(fd)
        } catch {
            evconnlistener_free(listener)
            throw .bind(error)
        }
    }

    deinit {
        evconnlistener_free(listener)  // closes the listening socket too
    }

    /// Stops accepting for now (the fd stays open; connections wait in the backlog).
    package func disable() { evconnlistener_disable(listener) }

    package func enable() { evconnlistener_enable(listener) }
}
