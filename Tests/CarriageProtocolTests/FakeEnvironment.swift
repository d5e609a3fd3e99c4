import CarriageProtocol

/// A `ServerEnvironment` with fixed answers.
struct FakeEnvironment: ServerEnvironment {
    var description = "worker-3 41872"
    var stats: [(name: String, value: Int)] = [
        ("pid", 41872), ("uptime_seconds", 12), ("workers", 2), ("workers_busy", 1),
        ("worker.0.requests", 7), ("worker.1.requests", 0), ("test.negative", -5),
    ]

    func threadDescription() -> String { description }
    func serverStats() -> [(name: String, value: Int)] { stats }
}
