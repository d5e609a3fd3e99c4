// pool-compare: WorkerPool beside NIOThreadPool, a concurrent DispatchQueue,
// OperationQueue and a textbook mutex + condition variable pool.
//
//   pool-compare [--quick] [--rounds N] [--workers 2,4] [--capacity 1024]
//                [--peers workerpool,nio,...] [--scenarios one-producer,...]
//   pool-compare measure PEER SCENARIO WORKERS CAPACITY [--quick]   (one measurement)
import Foundation

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("pool-compare: \(message)\n".utf8))
    exit(2)
}

let arguments = Array(CommandLine.arguments.dropFirst())
if arguments.first == "measure" {
    guard arguments.count >= 5, let peer = PeerKind(argument: arguments[1]), let scenario = Scenario(rawValue: arguments[2]),
          let workers = Int(arguments[3]), workers > 0, let capacity = Int(arguments[4]), capacity > 0
    else { fail("usage: pool-compare measure PEER SCENARIO WORKERS CAPACITY [--quick]") }
    print(scenario.measure(peer, workers: workers, capacity: capacity, quick: arguments.contains("--quick")).line)
    exit(0)
}

/// The driver the command line asks for.
func parse(_ arguments: [String]) -> Driver {
    var arguments = arguments
    var driver = Driver(rounds: 3, quick: false, workerCounts: [2, 4], capacity: 1024,
                        peers: PeerKind.allCases, scenarios: Scenario.allCases)
    func value(after flag: String) -> String {
        guard let index = arguments.firstIndex(of: flag), index + 1 < arguments.count else { fail("\(flag) needs a value") }
        let value = arguments[index + 1]
        arguments.removeSubrange(index...index + 1)
        return value
    }
    func list(_ text: String) -> [String] { text.split(separator: ",").map(String.init) }
    if let index = arguments.firstIndex(of: "--quick") {
        arguments.remove(at: index)
        driver.quick = true
        driver.rounds = 1
    }
    if arguments.contains("--rounds") {
        guard let rounds = Int(value(after: "--rounds")), rounds > 0 else { fail("--rounds takes a positive number") }
        driver.rounds = rounds
    }
    if arguments.contains("--workers") {
        let counts = list(value(after: "--workers")).compactMap { Int($0) }.filter { $0 > 0 }
        guard !counts.isEmpty else { fail("--workers takes positive numbers, comma-separated") }
        driver.workerCounts = counts
    }
    if arguments.contains("--capacity") {
        guard let capacity = Int(value(after: "--capacity")), capacity > 0 else { fail("--capacity takes a positive number") }
        driver.capacity = capacity
    }
    if arguments.contains("--peers") {
        let names = list(value(after: "--peers"))
        driver.peers = names.map { name in
            guard let peer = PeerKind(argument: name) else {
                fail("unknown pool '\(name)' (\(PeerKind.allCases.map(\.argument).joined(separator: ", ")))")
            }
            return peer
        }
        if !driver.peers.contains(.workerPool) { driver.peers.insert(.workerPool, at: 0) }  // the ratios' base
    }
    if arguments.contains("--scenarios") {
        driver.scenarios = list(value(after: "--scenarios")).map { name in
            guard let scenario = Scenario(rawValue: name) else {
                fail("unknown scenario '\(name)' (\(Scenario.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            return scenario
        }
    }
    guard arguments.isEmpty else { fail("unknown argument '\(arguments[0])'") }
    return driver
}

let driver = parse(arguments)
do {
    try driver.run()
} catch {
    fail("\(error)")
}
