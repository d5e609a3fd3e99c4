import Foundation

/// Runs every measurement in a process of its own, round after round with the pools
/// interleaved, and prints medians and same-round ratios.
struct Driver {
    var rounds: Int
    var quick: Bool
    var workerCounts: [Int]
    var capacity: Int
    var peers: [PeerKind]
    var scenarios: [Scenario]

    private struct Key: Hashable {
        var scenario: Scenario
        var workers: Int
        var peer: PeerKind
    }

    func run() throws {
        print("# WorkerPool beside the other pools: \(rounds) round(s)\(quick ? ", quick" : ""), queue \(capacity) slots, cores: \(ProcessInfo.processInfo.activeProcessorCount), \(Date())")
        var results: [Key: [Measurement]] = [:]
        for round in 1...rounds {
            FileHandle.standardError.write(Data("round \(round) of \(rounds)\n".utf8))
            for scenario in scenarios {
                for workers in workerCounts {
                    // Rotated each round, so no pool always runs first.
                    let order = peers.indices.map { peers[($0 + round - 1) % peers.count] }
                    for peer in order where scenario.applies(to: peer) {
                        let measurement = try measureWhileTheHostLetsUs(peer, scenario, workers, round: round)
                        results[Key(scenario: scenario, workers: workers, peer: peer), default: []].append(measurement)
                    }
                }
            }
        }
        for scenario in scenarios {
            printTable(scenario, results)
        }
        printSummary(results)
        printSteal(results)
    }

    /// A figure the host stole more than this share of the VM's CPU time from is measured
    /// again: on a busy host a round can lose half its CPU, and every pool reads slow in it.
    private static let tolerableSteal = 0.10
    private static let attempts = 3

    /// One figure, measured up to `attempts` times while the host steals more than
    /// `tolerableSteal`; the least-stolen attempt is kept. Every attempt goes to standard
    /// error, for a reader who doubts a median: the kept one as a `raw` line, the others
    /// as `stolen` lines.
    private func measureWhileTheHostLetsUs(_ peer: PeerKind, _ scenario: Scenario, _ workers: Int, round: Int) throws -> Measurement {
        var tries = [try measure(peer, scenario, workers)]
        while tries.last!.stolenShare > Self.tolerableSteal && tries.count < Self.attempts {
            tries.append(try measure(peer, scenario, workers))
        }
        let kept = tries.indices.min { tries[$0].stolenShare < tries[$1].stolenShare }!
        for (index, measurement) in tries.enumerated() {
            FileHandle.standardError.write(Data("\(index == kept ? "raw" : "stolen")\t\(round)\t\(scenario.rawValue)\t\(workers)\t\(peer.argument)\t\(measurement.value)\t\(measurement.contextSwitches)\t\(measurement.cpuMicroseconds)\t\(measurement.mostAtOnce)\t\(measurement.stolenShare)\n".utf8))
        }
        return tries[kept]
    }

    /// How much the host took from the VM while the kept figures were measured: the
    /// median, and the figures it took most from.
    private func printSteal(_ results: [Key: [Measurement]]) {
        let all = results.flatMap { key, runs in runs.enumerated().map { (key, $0.offset + 1, $0.element.stolenShare) } }
        guard let worst = all.map(\.2).max(), worst > 0 else { return }
        func percent(_ share: Double) -> String { String(format: "%.1f %%", share * 100) }
        let top = all.sorted { $0.2 > $1.2 }.prefix(3).map { key, run, stolen in
            "\(percent(stolen)) (\(key.scenario.rawValue), W=\(key.workers), \(key.peer.argument), round \(run))"
        }
        print("\nCPU time the host stole while measuring (a figure losing over \(percent(Self.tolerableSteal)) is measured again, up to \(Self.attempts) times, the least-stolen kept): median \(percent(median(all.map(\.2)))); most: " + top.joined(separator: ", ") + ".")
    }

    /// One measurement, in a new process: this executable's `measure` mode.
    private func measure(_ peer: PeerKind, _ scenario: Scenario, _ workers: Int) throws -> Measurement {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        process.arguments = ["measure", peer.argument, scenario.rawValue, "\(workers)", "\(capacity)"] + (quick ? ["--quick"] : [])
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0,
              let measurement = text.split(separator: "\n").last.flatMap({ Measurement(line: String($0)) })
        else { throw DriverError.measurementFailed("\(peer.rawValue), \(scenario.rawValue), \(workers) workers: \(text)") }
        return measurement
    }

    private func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    /// Per round, peer / WorkerPool; the median of those.
    private func ratio(_ scenario: Scenario, _ workers: Int, _ peer: PeerKind, _ results: [Key: [Measurement]]) -> Double? {
        guard let mine = results[Key(scenario: scenario, workers: workers, peer: peer)],
              let base = results[Key(scenario: scenario, workers: workers, peer: .workerPool)],
              base.allSatisfy({ $0.value > 0 })
        else { return nil }
        return median(zip(mine, base).map { $0.value / $1.value })
    }

    /// The most jobs `peer` ran at once in any round (0 where the scenario does not count).
    private func mostAtOnce(_ scenario: Scenario, _ workers: Int, _ peer: PeerKind, _ results: [Key: [Measurement]]) -> Int {
        results[Key(scenario: scenario, workers: workers, peer: peer)]?.map(\.mostAtOnce).max() ?? 0
    }

    private func printTable(_ scenario: Scenario, _ results: [Key: [Measurement]]) {
        print("\n## \(scenario.title)\n")
        let counted = peers.contains { peer in workerCounts.contains { mostAtOnce(scenario, $0, peer, results) > 0 } }
        var header = "| pool |"
        var rule = "| --- |"
        for workers in workerCounts {
            header += " W=\(workers) | vs WorkerPool | csw/1k jobs | CPU us/1k jobs |" + (counted ? " most at once |" : "")
            rule += " ---: | ---: | ---: | ---: |" + (counted ? " ---: |" : "")
        }
        print(header)
        print(rule)
        for peer in peers {
            var row = "| \(peer.rawValue) |"
            for workers in workerCounts {
                guard let runs = results[Key(scenario: scenario, workers: workers, peer: peer)] else {
                    row += " | | | |" + (counted ? " |" : "")
                    continue
                }
                let ratio = ratio(scenario, workers, peer, results).map { String(format: "%.2f", $0) } ?? ""
                row += " \(format(median(runs.map(\.value)))) | \(ratio) | \(format(median(runs.map(\.contextSwitches)))) | \(format(median(runs.map(\.cpuMicroseconds)))) |"
                if counted { row += " \(mostAtOnce(scenario, workers, peer, results)) |" }
            }
            print(row)
        }
        let lead = scenario.higherIsBetter ? "at most 1.00" : "at least 1.00"
        print("\nWorkerPool leads where every other pool's ratio is \(lead)"
              + (counted ? ", among the pools that ran at most W jobs at once." : "."))
    }

    /// The issue's table: one row per scenario, `ratio at W=2 / ratio at W=4` per pool.
    private func printSummary(_ results: [Key: [Measurement]]) {
        let others = peers.filter { $0 != .workerPool }
        print("\n## Same-round ratios, peer / WorkerPool (W = \(workerCounts.map(String.init).joined(separator: " / ")))\n")
        print("| scenario | " + others.map(\.rawValue).joined(separator: " | ") + " |")
        print("| --- |" + String(repeating: " --- |", count: others.count))
        var beyondW = false
        for scenario in scenarios {
            let cells = others.map { peer in
                workerCounts.map { workers in
                    guard let ratio = ratio(scenario, workers, peer, results) else { return "-" }
                    let most = mostAtOnce(scenario, workers, peer, results)
                    if most > workers { beyondW = true }
                    return String(format: "%.2f", ratio) + (most > workers ? " (\(most) at once)" : "")
                }.joined(separator: " / ")
            }
            print("| \(scenario.title) | " + cells.joined(separator: " | ") + " |")
        }
        if beyondW {
            print("\n\"(N at once)\": that pool ran up to N jobs at the same time, more than the W it was given, so its figure is not one of W workers.")
        }
    }

    private func format(_ value: Double) -> String {
        value >= 100 ? String(Int(value.rounded())) : String(format: "%.2f", value)
    }
}

enum DriverError: Error, CustomStringConvertible {
    case measurementFailed(String)
    case usage(String)

    var description: String {
        switch self {
        case .measurementFailed(let what): "a measurement failed: \(what)"
        case .usage(let what): what
        }
    }
}
