/// A ``LoopEvent`` that runs a closure when it fires, and keeps its loop alive: for
/// timers, signals and the few descriptors that are not one-event-per-object types.
public final class CallbackEvent: LoopEvent {
    /// Kept alive while this event is: its base must outlive the C event.
    private let loop: EventLoop
    private let handler: (Events) -> Void

    /// An event on `fd` (-1 for a timer), not yet pending; `handler` runs on the loop
    /// thread each time it fires.
    public init(loop: EventLoop, fd: Int32, events: Events, handler: @escaping (Events) -> Void) throws(EventLoopError) {
        self.loop = loop
        self.handler = handler
        try super.init(loop: loop, fd: fd, events: events)
    }

    override public func fired(_ events: Events) {
        handler(events)
    }
}
