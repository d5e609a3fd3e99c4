/// What the protocol needs from the server to answer `THREAD` and `STATS`.
///
/// The server implements it; tests use a fake. Both methods are called from worker threads,
/// concurrently, so an implementation must be thread-safe.
public protocol ServerEnvironment: Sendable {
    /// Payload of the `THREAD` reply for the calling thread, e.g. `"worker-3 41872"`.
    func threadDescription() -> String

    /// Server-side `STATS` lines in order (`pid`, `uptime_seconds`, `workers`, `workers_busy`,
    /// `queue_depth`, `threads`, `connections_*`, `requests_total`, `worker.<n>.requests` ...).
    /// The processor adds `keys` and `bytes_stored` from the store itself.
    func serverStats() -> [(name: String, value: Int)]

    /// Blocks the calling thread for `milliseconds` (0 to 60000): `SLEEP`, a stand-in for
    /// slow, blocking work. The server's own (a syscall), so that this module does none.
    func block(milliseconds: Int)

    /// Seconds since 1970 (the wall clock): memcached's `time` stat, and its absolute
    /// expiry times.
    func unixTime() -> Int
}
