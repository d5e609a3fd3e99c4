/// The store's sense of time: whole seconds, monotonic, from any origin. Injected, so
/// that tests move time instead of sleeping.
public struct StoreClock: Sendable {
    /// The current second.
    public let now: @Sendable () -> Int

    public init(now: @escaping @Sendable () -> Int) {
        self.now = now
    }

    /// Seconds since this clock was made, from the standard library's monotonic clock.
    public static func monotonic() -> StoreClock {
        let origin = ContinuousClock.now
        return StoreClock { (ContinuousClock.now - origin).components.seconds.clamped }
    }
}

extension Int64 {
    fileprivate var clamped: Int { Int(clamping: self) }
}
