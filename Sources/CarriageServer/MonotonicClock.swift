import Glibc

/// Whole seconds since the server started, from the coarse monotonic clock (a vDSO
/// read, no syscall), for idle timeouts and `uptime_seconds`.
struct MonotonicClock: Sendable {
    private let origin: Int

    init() {
        origin = Self.now()
    }

    func seconds() -> Int {
        Self.now() - origin
    }

    private static func now() -> Int {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC_COARSE, &now)
        return now.tv_sec
    }
}
