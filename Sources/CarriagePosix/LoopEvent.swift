import CLibevent
import Glibc

/// One libevent event on an ``EventLoop``: a timer, a signal, or a descriptor to watch.
/// It owns its C event: made in `init`, freed in ``free()`` or `deinit`, on every path.
///
/// A subclass overrides ``fired(_:)``, which runs on the loop thread each time the event
/// fires: a type with one event per object and many objects (the server's connections)
/// is such a subclass, so its event costs one pointer beside its own fields. For a
/// closure instead, use ``CallbackEvent`` (timers, signals, a few descriptors).
///
/// The loop must outlive the event: whoever owns the event keeps its ``EventLoop``
/// (``CallbackEvent`` keeps it itself).
///
/// Context pointer: `passUnretained(self)`. The C event lives inside this object and is
/// freed before the object goes, so the pointer never outlives what it names.
open class LoopEvent {
    /// What an event waits for, and why it fired.
    public struct Events: OptionSet, Sendable {
        public let rawValue: Int16
        @inlinable public init(rawValue: Int16) { self.rawValue = rawValue }
        @inlinable public static var timeout: Events { Events(rawValue: Int16(EV_TIMEOUT)) }
        @inlinable public static var read: Events { Events(rawValue: Int16(EV_READ)) }
        @inlinable public static var write: Events { Events(rawValue: Int16(EV_WRITE)) }
        @inlinable public static var signal: Events { Events(rawValue: Int16(EV_SIGNAL)) }
        /// Stays pending after it fires.
        @inlinable public static var persist: Events { Events(rawValue: Int16(EV_PERSIST)) }
        /// Edge-triggered.
        @inlinable public static var edgeTriggered: Events { Events(rawValue: Int16(EV_ET)) }
        /// The peer closed its side (needs ``EventLoop/Features/earlyClose``).
        @inlinable public static var closed: Events { Events(rawValue: Int16(EV_CLOSED)) }
    }

    // Connections subclass this type, so its fields are a per-connection cost: what
    // libevent keeps (the events, the base, a timer's interval) is not kept again here.
    /// The C event; nil once freed.
    private var handle: OpaquePointer?

    /// The one C callback of every event.
    private static let trampoline: event_callback_fn = { _, what, context in
        LoopEvent.from(context: context).fired(Events(rawValue: what))
    }

    /// The one way back from a libevent context pointer to its event.
    private static func from(context: UnsafeMutableRawPointer?) -> LoopEvent {
        Unmanaged<LoopEvent>.fromOpaque(context!).takeUnretainedValue()
    }

    /// An event on `fd` (-1 for a timer), not yet pending: call ``add(timeout:)``.
    public init(loop: EventLoop, fd: Int32, events: Events) throws(EventLoopError) {
        // passUnretained: see the type's comment.
        let context = Unmanaged.passUnretained(self).toOpaque()
        let made = events.contains(.signal)
            ? carriage_evsignal_new(loop.base, fd, Self.trampoline, context)
            : event_new(loop.base, fd, events.rawValue, Self.trampoline, context)
        guard let made else { throw .cannotCreate("an event", lastErrno("event_new")) }
        handle = made
    }

    deinit {
        free()
    }

    /// Called on the loop thread when the event fires.
    open func fired(_ events: Events) {}

    /// Makes the event pending (again). With `timeout`, it also fires that many seconds
    /// from now; a persistent timer then fires every `timeout` seconds.
    public final func add(timeout seconds: Double? = nil) {
        guard let handle else { return }
        if let seconds {
            let microseconds = Int((seconds * 1_000_000).rounded())
            var interval = timeval(tv_sec: microseconds / 1_000_000, tv_usec: microseconds % 1_000_000)
            _ = event_add(handle, &interval)
        } else {
            _ = event_add(handle, nil)
        }
    }

    /// Stops the event from firing until ``add(timeout:)``; harmless when not pending.
    public final func remove() {
        guard let handle else { return }
        _ = event_del(handle)
    }

    /// Points the (non-pending) event at another descriptor, reusing its memory: a
    /// client that opens a socket per request must not allocate for it.
    public final func reassign(fd: Int32) {
        guard let handle else { return }
        _ = event_del(handle)
        _ = event_assign(handle, event_get_base(handle), fd, event_get_events(handle), Self.trampoline, Unmanaged.passUnretained(self).toOpaque())
    }

    /// Frees the C event now (it never fires again); later calls do nothing.
    public final func free() {
        if let handle {
            event_free(handle)
            self.handle = nil
        }
    }

}

extension LoopEvent {
    /// A timer, not yet pending: `handler` runs `seconds` after ``add(timeout:)`` with
    /// `seconds`, and every `seconds` after that if `repeating`.
    package static func timer(on loop: EventLoop, repeating: Bool,
                              _ handler: @escaping () -> Void) throws(EventLoopError) -> LoopEvent {
        try CallbackEvent(loop: loop, fd: -1, events: repeating ? .persist : []) { _ in handler() }
    }

    /// A persistent signal event, pending at once; `handler` runs on the loop thread
    /// after the signal arrives. While it exists libevent owns the signal's disposition,
    /// and it puts back the one it found when the event is freed.
    package static func signal(on loop: EventLoop, _ number: Int32,
                               _ handler: @escaping () -> Void) throws(EventLoopError) -> LoopEvent {
        let event = try CallbackEvent(loop: loop, fd: number, events: [.signal, .persist]) { _ in handler() }
        event.add()
        return event
    }

    /// A persistent, level-triggered read event on `fd`, pending at once.
    package static func readable(on loop: EventLoop, fd: Int32,
                                 _ handler: @escaping () -> Void) throws(EventLoopError) -> LoopEvent {
        let event = try CallbackEvent(loop: loop, fd: fd, events: [.read, .persist]) { _ in handler() }
        event.add()
        return event
    }
}
