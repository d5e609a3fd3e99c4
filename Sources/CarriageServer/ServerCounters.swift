import Synchronization

/// The server-wide counters behind `STATS`: atomics, since the loop and every worker
/// update them. Relaxed: each is a count on its own, read as a snapshot.
final class ServerCounters: Sendable {
    /// One worker's request count (`worker.<n>.requests`): written by that worker only,
    /// read by STATS on any worker.
    final class WorkerRequests: Sendable {
        let count = Atomic<Int>(0)
    }

    /// One loop's open connections (`loop.<n>.connections`): written by that loop only.
    final class LoopConnections: Sendable {
        let count = Atomic<Int>(0)
    }

    /// Indexed by worker; each on its own heap object, so workers do not share a line.
    let requestsPerWorker: [WorkerRequests]
    /// Indexed by loop.
    let connectionsPerLoop: [LoopConnections]
    let connectionsCurrent = Atomic<Int>(0)
    let connectionsTotal = Atomic<Int>(0)
    let connectionsRejected = Atomic<Int>(0)
    /// Times accepting was paused because the process ran out of file descriptors.
    let listenDisabled = Atomic<Int>(0)

    /// Snapshots written (`--snapshot`), failed, and the items in the last one written.
    let snapshotsWritten = Atomic<Int>(0)
    let snapshotFailures = Atomic<Int>(0)
    let snapshotItems = Atomic<Int>(0)
    /// Logins tried (`--auth-file`; memcached's `auth_cmds`) and those refused (`auth_errors`).
    let authCommands = Atomic<Int>(0)
    let authErrors = Atomic<Int>(0)
    /// TLS handshakes that failed (garbage, plain text, a refused certificate).
    let tlsHandshakeFailures = Atomic<Int>(0)
    /// Partial requests and unsent replies, against `--max-client-memory`.
    let clientMemory: ClientMemory

    init(workers: Int, loops: Int, maxClientMemory: Int) {
        clientMemory = ClientMemory(limit: maxClientMemory)
        requestsPerWorker = (0..<workers).map { _ in WorkerRequests() }
        connectionsPerLoop = (0..<loops).map { _ in LoopConnections() }
    }
}
