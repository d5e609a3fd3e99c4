import CarriageProtocol
import CarriageStore
import WorkerPool

/// The server's statistics in Prometheus' text format (version 0.0.4), for
/// `--metrics-port`'s `GET /metrics`: every STATS line as a counter or gauge (per-worker
/// and per-loop lines as labels), the version as `carriage_build_info`, and the pool's
/// histograms of queue wait and service time.
enum MetricsExposition {
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    /// STATS names that only ever grow: Prometheus counters (`_total`).
    private static let counters: Set<String> = [
        "connections_total", "connections_rejected", "listen_disabled", "requests_total",
        "client_reads_paused", "client_memory_closed", "snapshots_written", "snapshot_failures",
        "evictions", "expired", "get_hits", "get_misses", "writes", "items_stored",
    ]

    /// What each metric means, for its `# HELP` line.
    private static let help: [String: String] = [
        "uptime_seconds": "Seconds since the server started.",
        "workers": "Worker threads.",
        "workers_busy": "Workers running a connection's turn now.",
        "queue_depth": "Ready connections waiting for a worker.",
        "threads": "Threads in the process.",
        "connections_current": "Open client connections.",
        "connections_total": "Client connections accepted.",
        "connections_rejected": "Connections refused with BUSY (--max-connections).",
        "listen_disabled": "Times accepting paused for lack of file descriptors.",
        "requests_total": "Requests run.",
        "client_memory_bytes": "Bytes connections hold: partial requests and unsent replies.",
        "client_memory_limit": "--max-client-memory in bytes (0: no bound).",
        "client_reads_paused": "Turns that left a connection's bytes unread at --max-client-memory.",
        "client_memory_closed": "Connections closed to bring client memory under its bound.",
        "snapshots_written": "Snapshots written (--snapshot).",
        "snapshot_failures": "Snapshots that could not be written.",
        "snapshot_items": "Items in the last snapshot written.",
        "loops": "Loop threads.",
        "keys": "Keys in the store (expired ones not yet reclaimed included).",
        "bytes_stored": "Bytes of keys and values in the store.",
        "memory_used": "Bytes the store has taken from --max-memory.",
        "memory_limit": "--max-memory in bytes.",
        "evictions": "Items evicted to make room.",
        "expired": "Items removed because they expired.",
        "get_hits": "Reads that found their key.",
        "get_misses": "Reads that did not.",
    ]

    /// The exposition text.
    static func render(stats: [(name: String, value: Int)], timings: WorkerPool.Timings?) -> String {
        var text = ""
        text += "# HELP carriage_build_info Carriage's version.\n# TYPE carriage_build_info gauge\n"
        text += "carriage_build_info{version=\"\(CarriageVersion.number)\"} 1\n"
        var workerRequests: [(String, Int)] = []
        var loopConnections: [(String, Int)] = []
        for (name, value) in stats {
            let parts = name.split(separator: ".")
            if parts.count == 3 && parts[0] == "worker" && parts[2] == "requests" {
                workerRequests.append((String(parts[1]), value))
                continue
            }
            if parts.count == 3 && parts[0] == "loop" && parts[2] == "connections" {
                loopConnections.append((String(parts[1]), value))
                continue
            }
            guard parts.count == 1, name != "pid" else { continue }
            let counter = counters.contains(name)
            let metric = "carriage_" + name + (counter && !name.hasSuffix("_total") ? "_total" : "")
            text += "# HELP \(metric) \(help[name] ?? name)\n# TYPE \(metric) \(counter ? "counter" : "gauge")\n"
            text += "\(metric) \(value)\n"
        }
        if !workerRequests.isEmpty {
            text += "# HELP carriage_worker_requests_total Requests run by each worker.\n# TYPE carriage_worker_requests_total counter\n"
            for (worker, value) in workerRequests { text += "carriage_worker_requests_total{worker=\"\(worker)\"} \(value)\n" }
        }
        if !loopConnections.isEmpty {
            text += "# HELP carriage_loop_connections Open connections on each loop thread.\n# TYPE carriage_loop_connections gauge\n"
            for (loop, value) in loopConnections { text += "carriage_loop_connections{loop=\"\(loop)\"} \(value)\n" }
        }
        if let timings {
            histogram(&text, "carriage_queue_wait_seconds",
                      "Time a ready connection waited in the queue for a worker.", timings.queueWait)
            histogram(&text, "carriage_service_seconds",
                      "Time a worker spent on one turn of a connection: one request, or a pipelined batch.", timings.run)
        }
        return text
    }

    private static func histogram(_ text: inout String, _ name: String, _ help: String, _ histogram: WorkerPool.Histogram) {
        text += "# HELP \(name) \(help)\n# TYPE \(name) histogram\n"
        var cumulative = 0
        for (index, bound) in WorkerPool.Timings.bucketBounds.enumerated() {
            cumulative += histogram.counts[index]
            text += "\(name)_bucket{le=\"\(bound)\"} \(cumulative)\n"
        }
        cumulative += histogram.counts[WorkerPool.Timings.bucketBounds.count]
        text += "\(name)_bucket{le=\"+Inf\"} \(cumulative)\n"
        text += "\(name)_sum \(Double(histogram.sumNanoseconds) / 1e9)\n"
        text += "\(name)_count \(cumulative)\n"
    }
}
