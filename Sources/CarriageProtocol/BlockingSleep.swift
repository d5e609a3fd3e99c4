import Glibc

/// Blocks the calling thread, as `SLEEP` is meant to: it simulates slow, blocking work that
/// holds its worker.
enum BlockingSleep {
    /// Sleeps for `milliseconds` (negative counts as 0), resuming after a signal with the time
    /// that was left.
    static func sleep(milliseconds: Int) {
        let milliseconds = max(0, milliseconds)
        var request = timespec(
            tv_sec: milliseconds / 1000,
            tv_nsec: (milliseconds % 1000) * 1_000_000)
        var remaining = timespec()
        while nanosleep(&request, &remaining) == -1 && errno == EINTR {
            request = remaining
        }
    }
}
