import CarriagePosix
import Histogram

/// What one load thread measured; merged into the run's totals when the threads are done.
struct ThreadStats {
    /// The highest latency recorded exactly (100 s); longer ones are recorded as this.
    static let highestLatencyNanoseconds: UInt64 = 100_000_000_000
    /// Error samples kept per thread, to show what went wrong without flooding.
    static let sampleLimit = 5

    /// Requests answered with the right reply.
    var requests = 0
    var errors = [Int](repeating: 0, count: ErrorKind.allCases.count)
    /// Connections established (load and idle).
    var connects = 0
    /// Latency of the right replies, in nanoseconds.
    var latency = Histogram<UInt64>(lowestDiscernibleValue: 1,
                                    highestTrackableValue: ThreadStats.highestLatencyNanoseconds,
                                    numberOfSignificantValueDigits: .three)
    /// The first few failures, described (`wrong reply to 'PING': 'ERR x'`).
    var samples: [String] = []
    /// The first failed connect, for the "cannot connect" message.
    var firstConnectError: SystemError?

    var errorTotal: Int { errors.reduce(0, +) }

    @inline(__always)
    mutating func recordLatency(_ nanoseconds: UInt64) {
        _ = latency.record(min(max(nanoseconds, 1), Self.highestLatencyNanoseconds))
    }

    mutating func count(_ kind: ErrorKind, _ n: Int = 1) {
        errors[kind.rawValue] += n
    }

    mutating func sample(_ text: @autoclosure () -> String) {
        if samples.count < Self.sampleLimit { samples.append(text()) }
    }

    mutating func add(_ other: ThreadStats) {
        requests += other.requests
        for i in errors.indices { errors[i] += other.errors[i] }
        connects += other.connects
        latency.add(other.latency)
        for s in other.samples where samples.count < Self.sampleLimit * 2 { samples.append(s) }
        if firstConnectError == nil { firstConnectError = other.firstConnectError }
    }
}
