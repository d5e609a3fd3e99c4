import Glibc

/// Monotonic time: nanoseconds for measuring (`CLOCK_MONOTONIC`), and coarse whole
/// seconds since a start for timeouts and uptime (`CLOCK_MONOTONIC_COARSE`). Both are
/// vDSO reads, no system call.
package struct MonotonicClock: Sendable {
    @usableFromInline
    let origin: Int

    /// A clock whose ``seconds()`` count from now.
    package init() {
        origin = Self.coarseSeconds()
    }

    /// Whole seconds since `init`. (Inlinable, as `coarseSeconds()`: a worker reads it
    /// every turn.)
    @inlinable
    package func seconds() -> Int {
        Self.coarseSeconds() - origin
    }

    @inline(__always)
    package static func nanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) &* 1_000_000_000 &+ UInt64(now.tv_nsec)
    }

    @inlinable
    static func coarseSeconds() -> Int {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC_COARSE, &now)
        return now.tv_sec
    }

    /// Nanoseconds as seconds.
    package static func seconds(fromNanoseconds nanoseconds: UInt64) -> Double {
        Double(nanoseconds) / 1e9
    }

    /// Seconds as nanoseconds (negative counts as 0).
    package static func nanoseconds(fromSeconds seconds: Double) -> UInt64 {
        UInt64(max(0, seconds) * 1e9)
    }

    /// Blocks the calling thread for `milliseconds` (negative counts as 0), resuming
    /// after a signal with the time that was left.
    package static func sleep(milliseconds: Int) {
        let milliseconds = max(0, milliseconds)
        var request = timespec(tv_sec: milliseconds / 1000, tv_nsec: (milliseconds % 1000) * 1_000_000)
        var remaining = timespec()
        _ = try? syscallBlocking("nanosleep") {
            let result = nanosleep(&request, &remaining)
            request = remaining  // read only when interrupted, which retries
            return result
        }
    }
}
