import CLibevent

/// One libevent `event_base`, driven by exactly one thread: the only thread that calls
/// libevent for it, so libevent's own locking is never needed (`EVENT_BASE_FLAG_NOLOCK`,
/// and no `evthread_use_pthreads`).
///
/// `public` (its members are `package`) only because ``LoopEvent``'s init names it: an
/// open class subclassed in another module needs a public init, or Swift 6.3 warns of
/// an infinite recursion in the subclass.
public final class EventLoop {
    /// Backend features a loop can require.
    package struct Features: OptionSet, Sendable {
        package let rawValue: Int32
        package init(rawValue: Int32) { self.rawValue = rawValue }
        /// `EV_ET` events.
        package static let edgeTriggered = Features(rawValue: Int32(EV_FEATURE_ET.rawValue))
        /// `EV_CLOSED`: the peer's FIN reported apart from readability.
        package static let earlyClose = Features(rawValue: Int32(EV_FEATURE_EARLY_CLOSE.rawValue))
    }

    /// The C base. Freed in `deinit`, so every event made on it must go first: each
    /// ``LoopEvent`` keeps its loop alive.
    let base: OpaquePointer

    package init(requiring features: Features = []) throws(EventLoopError) {
        guard let config = event_config_new() else { throw .cannotCreate("an event_config", lastErrno("event_config_new")) }
        defer { event_config_free(config) }
        _ = event_config_set_flag(config, Int32(EVENT_BASE_FLAG_NOLOCK.rawValue))
        if !features.isEmpty { _ = event_config_require_features(config, features.rawValue) }
        guard let base = event_base_new_with_config(config) else {
            throw .unsupported(features: features.isEmpty ? "any method" : "edge-triggered events and EV_CLOSED")
        }
        self.base = base
    }

    deinit {
        event_base_free(base)
    }

    /// Runs one round: waits for events, runs their callbacks, returns.
    package func runOnce() {
        _ = event_base_loop(base, EVLOOP_ONCE)
    }

    /// Runs callbacks until ``stop()``. Keep an event pending (a timer), or it returns
    /// as soon as none is.
    package func run() {
        _ = event_base_loop(base, 0)
    }

    /// Makes ``run()`` return after the callback in progress.
    package func stop() {
        _ = event_base_loopbreak(base)
    }

    /// Events added to the base (pending), of every kind.
    package var pendingEvents: Int { Int(event_base_get_num_events(base, EVENT_BASE_COUNT_ADDED)) }

    /// The backend libevent chose ("epoll").
    package var backend: String { String(cString: event_base_get_method(base)) }
}
