import CLibevent

/// Something libevent calls back: a connection or a timer. Subclasses override
/// `handleEvent`; the `what` flags (`EV_READ`, `EV_WRITE`, `EV_TIMEOUT`) say why.
class EventTarget {
    func handleEvent(_ what: Int16) {}
}

/// The single C callback of the load tool: it turns the context pointer back into the
/// `EventTarget` that made the event (see the ownership rule in `LoopEvent.init`).
private func eventTrampoline(_ fd: Int32, _ what: Int16, _ context: UnsafeMutableRawPointer?) {
    guard let context else { return }
    Unmanaged<EventTarget>.fromOpaque(context).takeUnretainedValue().handleEvent(what)
}

/// Owns one libevent `struct event`: made by `event_new` in `init`, freed by `event_free`
/// in `deinit` (which also removes it if pending), on every path.
final class LoopEvent {
    static let read = Int16(EV_READ)
    static let write = Int16(EV_WRITE)
    static let timeout = Int16(EV_TIMEOUT)
    static let persist = Int16(EV_PERSIST)

    private let loop: EventLoop
    private let handle: OpaquePointer
    private let flags: Int16
    private let context: UnsafeMutableRawPointer

    /// An event on `fd` (-1 for a pure timer) with `flags`, calling `target.handleEvent`.
    init(loop: EventLoop, fd: Int32, flags: Int16, target: EventTarget) throws(LoadError) {
        // Ownership: passUnretained. The target owns this LoopEvent (a stored property) and
        // so the C event; the event is freed in this object's deinit, which runs before or
        // while the target goes away, so libevent never calls back into a freed target.
        let context = Unmanaged.passUnretained(target).toOpaque()
        guard let handle = event_new(loop.base, fd, flags, eventTrampoline, context) else {
            throw .system("event_new failed")
        }
        self.loop = loop
        self.handle = handle
        self.flags = flags
        self.context = context
    }

    deinit {
        event_free(handle)
    }

    /// Makes the event pending (again). With `seconds`, it also fires on that timeout.
    func add(seconds: Double? = nil) {
        if let seconds {
            var interval = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - Double(Int(seconds))) * 1_000_000))
            _ = event_add(handle, &interval)
        } else {
            _ = event_add(handle, nil)
        }
    }

    /// Makes the event non-pending; harmless when it is not pending.
    func remove() {
        _ = event_del(handle)
    }

    /// Points the (non-pending) event at a new descriptor, reusing its memory: the
    /// connect-per-request path opens a socket per request and must not allocate for it.
    func reassign(fd: Int32) {
        _ = event_del(handle)
        _ = event_assign(handle, loop.base, fd, flags, eventTrampoline, context)
    }
}
