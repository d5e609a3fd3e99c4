/// A timer on a load thread's loop that runs `action` (off the request path: the 100 ms
/// housekeeping tick and the end of a timed run).
final class LoopTimer: EventTarget {
    private var event: LoopEvent?
    private let action: () -> Void

    /// Starts a timer firing after `seconds`, again every `seconds` when `repeating`.
    init(loop: EventLoop, seconds: Double, repeating: Bool, action: @escaping () -> Void) throws(LoadError) {
        self.action = action
        super.init()
        let event = try LoopEvent(loop: loop, fd: -1, flags: repeating ? LoopEvent.persist : 0, target: self)
        event.add(seconds: seconds)
        self.event = event
    }

    override func handleEvent(_ what: Int16) {
        action()
    }

    /// Stops the timer and frees its event.
    func cancel() {
        event = nil
    }
}
