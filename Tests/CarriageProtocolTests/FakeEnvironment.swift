import CarriageProtocol
import Synchronization

/// A `ServerEnvironment` with fixed answers; `SLEEP` records what it was asked instead
/// of blocking.
final class FakeEnvironment: ServerEnvironment {
    let description: String
    let stats: [(name: String, value: Int)]
    /// The milliseconds of the last `block` call, -1 before any.
    let lastBlock = Atomic<Int>(-1)

    init(description: String = "worker-3 41872",
         stats: [(name: String, value: Int)] = [
            ("pid", 41872), ("uptime_seconds", 12), ("workers", 2), ("workers_busy", 1),
            ("worker.0.requests", 7), ("worker.1.requests", 0), ("test.negative", -5),
         ]) {
        self.description = description
        self.stats = stats
    }

    func threadDescription() -> String { description }
    func serverStats() -> [(name: String, value: Int)] { stats }
    func block(milliseconds: Int) { lastBlock.store(milliseconds, ordering: .relaxed) }
    /// A fixed wall clock: 2026-12-03.
    func unixTime() -> Int { 1_796_300_000 }
}
