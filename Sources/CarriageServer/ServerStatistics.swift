import CarriageProtocol
import Glibc
import WorkerPool

/// Answers `THREAD` and the server's part of `STATS` for the protocol.
struct ServerStatistics: ServerEnvironment {
    let pid = Int(getpid())
    let clock: MonotonicClock
    let pool: WorkerPool
    let counters: ServerCounters

    func threadDescription() -> String {
        let name = WorkerPool.currentWorker.map { "\(pool.name)-\($0)" } ?? "main"
        return "\(name) \(pid)"
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
            ("threads", Self.threadCount()),
            ("connections_current", counters.connectionsCurrent.load(ordering: .relaxed)),
            ("connections_total", counters.connectionsTotal.load(ordering: .relaxed)),
            ("connections_rejected", counters.connectionsRejected.load(ordering: .relaxed)),
            ("listen_disabled", counters.listenDisabled.load(ordering: .relaxed)),
            ("requests_total", perWorker.reduce(0, +)),
        ]
        for (index, count) in perWorker.enumerated() {
            stats.append(("worker.\(index).requests", count))
        }
        return stats
    }

    /// OS threads in this process: the entries of /proc/self/task.
    static func threadCount() -> Int {
        guard let dir = opendir("/proc/self/task") else { return -1 }
        defer { closedir(dir) }
        var count = 0
        while let entry = readdir(dir) {
            if entry.pointee.d_name.0 != UInt8(ascii: ".") { count += 1 }
        }
        return count
    }
}
