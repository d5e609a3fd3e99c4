/// The result of a run: the human summary, the `--json` object and the exit status.
struct Report {
    let plan: LoadPlan
    let stats: ThreadStats
    /// Seconds from the first thread's start of load to the last one's end.
    let elapsed: Double
    let cpuUser: Double
    let cpuSystem: Double
    let idleOpen: Int
    let stopReason: LoadThread.StopReason

    var requestsPerSecond: Double { elapsed > 0 ? Double(stats.requests) / elapsed : 0 }
    var errorTotal: Int { stats.errorTotal }

    /// 0 when every request got the right reply; 1 when anything failed (errors are never
    /// hidden behind a zero status).
    var exitStatus: Int32 { errorTotal == 0 ? 0 : 1 }

    /// Latency percentiles in microseconds (0 when nothing was answered).
    var latency: [(name: String, label: String, micros: Double)] {
        let histogram = stats.latency
        func us(_ ns: UInt64) -> Double { stats.requests == 0 ? 0 : Double(ns) / 1000 }
        return [
            ("p50", "p50", us(histogram.valueAtPercentile(50))),
            ("p90", "p90", us(histogram.valueAtPercentile(90))),
            ("p99", "p99", us(histogram.valueAtPercentile(99))),
            ("p999", "p99.9", us(histogram.valueAtPercentile(99.9))),
            ("max", "max", us(histogram.max)),
            ("mean", "mean", stats.requests == 0 ? 0 : histogram.mean / 1000),
        ]
    }

    private var modeDescription: String {
        var parts = ["\(plan.connections) connection\(plan.connections == 1 ? "" : "s")"]
        parts.append(plan.connectPerRequest ? "connect-per-request" : "pipeline \(plan.pipeline)")
        parts.append("\(plan.threads) thread\(plan.threads == 1 ? "" : "s")")
        if plan.idle > 0 { parts.append("\(plan.idle) idle") }
        return parts.joined(separator: ", ")
    }

    func text() -> String {
        var lines: [String] = []
        lines.append("carriage-load: \(plan.wire.rawValue) at \(plan.address), \(modeDescription); stopped: \(stopReason.rawValue)")
        lines.append("  requests      \(stats.requests) in \(Self.fixed(elapsed, 2)) s = \(Self.fixed(requestsPerSecond, 1)) requests/s")
        let kinds = ErrorKind.allCases.map { "\($0.name) \(stats.errors[$0.rawValue])" }.joined(separator: ", ")
        lines.append("  errors        \(errorTotal) (\(kinds))")
        let percentiles = latency.map { "\($0.label) \(Self.fixed($0.micros, 1))" }.joined(separator: "  ")
        lines.append("  latency (us)  \(percentiles)")
        if plan.idle > 0 {
            lines.append("  idle          \(idleOpen) of \(plan.idle) open at the end")
        }
        lines.append("  connects      \(stats.connects)")
        lines.append("  tool cpu      \(Self.fixed(cpuUser + cpuSystem, 2)) s (user \(Self.fixed(cpuUser, 2)), system \(Self.fixed(cpuSystem, 2)))")
        return lines.joined(separator: "\n")
    }

    func json() -> String {
        var fields: [(String, String)] = [
            ("protocol", Self.quoted(plan.wire.rawValue)),
            ("host", Self.quoted(plan.address.host)),
            ("port", String(plan.address.port)),
            ("connections", String(plan.connections)),
            ("threads", String(plan.threads)),
            ("pipeline", String(plan.pipeline)),
            ("connect_per_request", plan.connectPerRequest ? "true" : "false"),
            ("idle", String(plan.idle)),
            ("idle_open", String(idleOpen)),
            ("requests_mix", "[" + plan.templates.map { Self.quoted($0.source) }.joined(separator: ",") + "]"),
            ("stopped", Self.quoted(stopReason.rawValue)),
            ("duration_s", Self.number(elapsed, 4)),
            ("requests", String(stats.requests)),
            ("errors", String(errorTotal)),
        ]
        let kinds = ErrorKind.allCases.map { "\(Self.quoted($0.name)):\(stats.errors[$0.rawValue])" }
        fields.append(("errors_by_kind", "{" + kinds.joined(separator: ",") + "}"))
        fields.append(("requests_per_second", Self.number(requestsPerSecond, 1)))
        let percentiles = latency.map { "\(Self.quoted($0.name)):\(Self.number($0.micros, 1))" }
        fields.append(("latency_us", "{" + percentiles.joined(separator: ",") + "}"))
        fields.append(("connects", String(stats.connects)))
        fields.append(("cpu_seconds", Self.number(cpuUser + cpuSystem, 3)))
        fields.append(("cpu_user_seconds", Self.number(cpuUser, 3)))
        fields.append(("cpu_system_seconds", Self.number(cpuSystem, 3)))
        fields.append(("error_samples", "[" + stats.samples.map(Self.quoted).joined(separator: ",") + "]"))
        return "{" + fields.map { "\(Self.quoted($0.0)):\($0.1)" }.joined(separator: ",") + "}"
    }

    // MARK: Formatting (no Foundation)

    /// `value` with exactly `digits` decimals.
    static func fixed(_ value: Double, _ digits: Int) -> String {
        guard value.isFinite else { return "0" }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let scaled = (abs(value) * scale).rounded()
        guard scaled < 9e18 else { return String(value) }
        let whole = Int(scaled) / Int(scale)
        let fraction = Int(scaled) % Int(scale)
        var text = (value < 0 && scaled > 0 ? "-" : "") + String(whole)
        if digits > 0 {
            let f = String(fraction)
            text += "." + String(repeating: "0", count: digits - f.count) + f
        }
        return text
    }

    /// A JSON number with at most `digits` decimals.
    static func number(_ value: Double, _ digits: Int) -> String {
        fixed(value, digits)
    }

    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
