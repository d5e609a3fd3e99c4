import CarriagePosix

extension EventLoop {
    /// Runs the loop until something stops it; false when a 5 s guard timer had to, so
    /// that an event that never fires fails a test instead of hanging it.
    func runGuarded() throws -> Bool {
        var timedOut = false
        let guardTimer = try LoopEvent.timer(on: self, repeating: false) { [unowned self] in
            timedOut = true
            self.stop()
        }
        guardTimer.add(timeout: 5)
        run()
        return !timedOut
    }
}
