import CLibevent
import Glibc

/// The loop thread's `event_base` and the events registered on it. Only the loop
/// thread calls into libevent, so libevent's own locking is never turned on.
///
/// Context pointers: the Swift object that owns a C event also owns the object its
/// context pointer names and frees the event first, so every context here is
/// `passUnretained`. ``Connection``s are kept alive by the server's registry until
/// the loop frees their event.
final class EventLoop {
    let base: OpaquePointer

    init() throws(ServerError) {
        guard let config = event_config_new() else { throw .eventLoop("event_config_new failed") }
        defer { event_config_free(config) }
        // Edge-triggered events and EV_CLOSED are what the connection lifecycle needs.
        event_config_require_features(config, Int32(EV_FEATURE_ET.rawValue | EV_FEATURE_EARLY_CLOSE.rawValue))
        guard let base = event_base_new_with_config(config) else {
            throw .eventLoop("libevent has no backend with edge-triggered events and EV_CLOSED (epoll)")
        }
        self.base = base
    }

    deinit {
        event_base_free(base)
    }

    /// Runs one round: waits for events, runs their callbacks, returns.
    func runOnce() {
        _ = event_base_loop(base, EVLOOP_ONCE)
    }

    var backend: String { String(cString: event_base_get_method(base)) }

    // MARK: Connections

    /// Registers `connection` once, for good: one persistent, edge-triggered event for
    /// read, write and peer close. `ready` runs on the loop thread for each event.
    func register(_ connection: Connection) throws(ServerError) {
        let events = Int16(EV_READ | EV_WRITE | EV_CLOSED | EV_PERSIST | EV_ET)
        // passUnretained: the server's registry owns the connection until the loop
        // frees this event in `unregister`.
        let context = Unmanaged.passUnretained(connection).toOpaque()
        guard let event = event_new(base, connection.fd, events, { _, what, context in
            let connection = Connection.from(context: context)
            connection.core.connectionReady(connection, peerClosed: Int32(what) & Int32(EV_CLOSED) != 0)
        }, context) else {
            throw .eventLoop("event_new failed for a connection")
        }
        guard event_add(event, nil) == 0 else {
            event_free(event)
            throw .eventLoop("event_add failed for a connection")
        }
        connection.event = event
    }

    /// Removes and frees a connection's event; no callback for it runs afterwards.
    func unregister(_ connection: Connection) {
        if let event = connection.event {
            event_free(event)
            connection.event = nil
        }
    }
}

extension Connection {
    /// The one way back from a libevent context pointer to its connection.
    static func from(context: UnsafeMutableRawPointer?) -> Connection {
        Unmanaged<Connection>.fromOpaque(context!).takeUnretainedValue()
    }
}

/// A loop event that runs a Swift closure: a timer, a signal, or an fd to watch.
/// Owns its C event and frees it in `deinit`.
final class LoopEvent {
    private final class Callback {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
        static func from(context: UnsafeMutableRawPointer?) -> Callback {
            Unmanaged<Callback>.fromOpaque(context!).takeUnretainedValue()
        }
    }

    private let event: OpaquePointer
    private let callback: Callback
    private let interval: timeval?

    private static let trampoline: event_callback_fn = { _, _, context in
        Callback.from(context: context).body()
    }

    /// Created pending already (`event_add`); freed on `deinit`.
    private init(_ make: (UnsafeMutableRawPointer) -> OpaquePointer?, interval: timeval?, body: @escaping () -> Void) throws(ServerError) {
        let callback = Callback(body)
        // passUnretained: this LoopEvent owns both the callback and the C event, and
        // frees the event before the callback goes.
        guard let event = make(Unmanaged.passUnretained(callback).toOpaque()) else {
            throw .eventLoop("could not create a loop event")
        }
        self.event = event
        self.callback = callback
        self.interval = interval
    }

    deinit {
        event_free(event)
    }

    /// Starts (or restarts) the event; a timer fires after its interval.
    func add() {
        if var interval {
            event_add(event, &interval)
        } else {
            event_add(event, nil)
        }
    }

    /// Stops the event from firing until `add` is called again.
    func remove() {
        event_del(event)
    }

    /// A timer: `body` runs `seconds` after `add`, and every `seconds` if `repeating`.
    static func timer(on loop: EventLoop, seconds: Double, repeating: Bool, body: @escaping () -> Void) throws(ServerError) -> LoopEvent {
        let whole = seconds.rounded(.down)
        let interval = timeval(tv_sec: Int(whole), tv_usec: Int((seconds - whole) * 1_000_000))
        return try LoopEvent({ context in
            repeating
                ? event_new(loop.base, -1, Int16(EV_PERSIST), trampoline, context)
                : carriage_evtimer_new(loop.base, trampoline, context)
        }, interval: interval, body: body)
    }

    /// A persistent signal event; `body` runs on the loop thread after the signal.
    static func signal(on loop: EventLoop, _ number: Int32, body: @escaping () -> Void) throws(ServerError) -> LoopEvent {
        let event = try LoopEvent({ carriage_evsignal_new(loop.base, number, trampoline, $0) }, interval: nil, body: body)
        event.add()
        return event
    }

    /// A persistent, level-triggered read event on `fd`.
    static func readable(on loop: EventLoop, fd: Int32, body: @escaping () -> Void) throws(ServerError) -> LoopEvent {
        let event = try LoopEvent({ event_new(loop.base, fd, Int16(EV_READ | EV_PERSIST), trampoline, $0) },
                                  interval: nil, body: body)
        event.add()
        return event
    }
}
