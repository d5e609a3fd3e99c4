import CLibevent

/// One libevent `event_base`, driven by exactly one thread. The load tool never shares a
/// base between threads, so it asks libevent for no locking (`EVENT_BASE_FLAG_NOLOCK`) and
/// never calls `evthread_use_pthreads`.
final class EventLoop {
    /// The C base. Every `LoopEvent` keeps its loop alive, so the base is freed (in `deinit`)
    /// only after the last event made on it.
    let base: OpaquePointer

    init() throws(LoadError) {
        guard let config = event_config_new() else { throw .system("event_config_new failed") }
        defer { event_config_free(config) }
        _ = event_config_set_flag(config, Int32(EVENT_BASE_FLAG_NOLOCK.rawValue))
        guard let base = event_base_new_with_config(config) else {
            throw .system("event_base_new_with_config failed")
        }
        self.base = base
    }

    deinit {
        event_base_free(base)
    }

    /// Runs callbacks until `stop()`. The caller keeps at least one timer pending, so the
    /// loop never returns early for lack of events.
    func run() {
        _ = event_base_loop(base, 0)
    }

    /// Makes `run()` return after the callback in progress.
    func stop() {
        _ = event_base_loopbreak(base)
    }
}
