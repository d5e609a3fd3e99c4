import Synchronization

/// The server-wide counters behind `STATS`: atomics, since the loop and every worker
/// update them. Relaxed: each is a count on its own, read as a snapshot.
final class ServerCounters: Sendable {
    let connectionsCurrent = Atomic<Int>(0)
    let connectionsTotal = Atomic<Int>(0)
    let connectionsRejected = Atomic<Int>(0)
    /// Times accepting was paused because the process ran out of file descriptors.
    let listenDisabled = Atomic<Int>(0)
}
