import CarriagePosix
import CarriageProtocol
import Glibc
import WorkerPool

/// Answers `THREAD` and the server's part of `STATS` for the protocol.
struct ServerStatistics: ServerEnvironment {
    let pid = Int(getpid())
    let clock: MonotonicClock
    let pool: WorkerPool
    let counters: ServerCounters

    /// The calling thread's name as the system shows it (`worker-1`), not a thread-local
    /// of the pool's.
    func threadDescription() -> String {
        "\(PosixThread.currentName) \(pid)"
    }

    func block(milliseconds: Int) {
        MonotonicClock.sleep(milliseconds: milliseconds)
    }

    func unixTime() -> Int {
        Int(time(nil))
    }

    func serverStats() -> [(name: String, value: Int)] {
        let pool = pool.stats
        let perWorker = counters.requestsPerWorker.map { $0.count.load(ordering: .relaxed) }
        var stats: [(name: String, value: Int)] = [
            ("pid", pid),
            ("uptime_seconds", clock.seconds()),
            ("workers", pool.workers),
            ("workers_busy", pool.busy),
            ("queue_depth", pool.queued),
            ("threads", PosixThread.countInProcess()),
            ("connections_current", counters.connectionsCurrent.load(ordering: .relaxed)),
            ("connections_total", counters.connectionsTotal.load(ordering: .relaxed)),
            ("connections_rejected", counters.connectionsRejected.load(ordering: .relaxed)),
            ("listen_disabled", counters.listenDisabled.load(ordering: .relaxed)),
            ("requests_total", perWorker.reduce(0, +)),
            ("client_memory_bytes", counters.clientMemory.bytes),
            ("client_memory_limit", counters.clientMemory.limit),
            ("client_reads_paused", counters.clientMemory.readsPaused.load(ordering: .relaxed)),
            ("client_memory_closed", counters.clientMemory.closed.load(ordering: .relaxed)),
            ("auth_cmds", counters.authCommands.load(ordering: .relaxed)),
            ("auth_errors", counters.authErrors.load(ordering: .relaxed)),
            ("tls_handshake_failures", counters.tlsHandshakeFailures.load(ordering: .relaxed)),
            ("snapshots_written", counters.snapshotsWritten.load(ordering: .relaxed)),
            ("snapshot_failures", counters.snapshotFailures.load(ordering: .relaxed)),
            ("snapshot_items", counters.snapshotItems.load(ordering: .relaxed)),
        ]
        for (index, count) in perWorker.enumerated() {
            stats.append(("worker.\(index).requests", count))
        }
        stats.append(("loops", counters.connectionsPerLoop.count))
        for (index, loop) in counters.connectionsPerLoop.enumerated() {
            stats.append(("loop.\(index).connections", loop.count.load(ordering: .relaxed)))
        }
        return stats
    }
}
