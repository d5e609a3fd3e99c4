import Foundation
import Glibc
import XCTest

/// `scripts/cluster.sh`: carriaged instances behind twemproxy (nutcracker), an existing
/// proxy, doing the scale-out.
final class ClusterTests: XCTestCase {
    private struct Cluster {
        let process: Process
        var instances: [(pid: Int32, memcachedPort: Int)] = []
        var proxyPort = 0
    }

    private func startCluster(instances count: Int) throws -> Cluster {
        guard ["/usr/sbin/nutcracker", "/usr/bin/nutcracker"].contains(where: FileManager.default.isExecutableFile(atPath:)) else {
            throw XCTSkip("nutcracker is not installed (scripts/test.sh installs it)")
        }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [root.appendingPathComponent("scripts/cluster.sh").path, "\(count)"]
        var environment = ProcessInfo.processInfo.environment
        environment["CARRIAGE_BIN"] = productsDirectory().appendingPathComponent("carriaged").path
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        var cluster = Cluster(process: process)
        var text = ""
        while cluster.proxyPort == 0 {
            let chunk = output.fileHandleForReading.availableData
            guard !chunk.isEmpty else {
                throw LineClient.Failure(description: "cluster.sh ended before its proxy listened: \(text)")
            }
            text += String(decoding: chunk, as: UTF8.self)
            for line in text.split(separator: "\n") {
                let words = line.split(separator: " ")
                if words.first == "instance", words.count >= 6, cluster.instances.count < count,
                   let pid = Int32(words[3]), let port = Int(words[5].split(separator: ":").last ?? "") {
                    if !cluster.instances.contains(where: { $0.pid == pid }) { cluster.instances.append((pid, port)) }
                }
                if words.first == "proxy", let port = Int(words.last?.split(separator: ":").last ?? "") {
                    cluster.proxyPort = port
                }
            }
        }
        return cluster
    }

    private func stop(_ cluster: Cluster) {
        cluster.process.terminate()
        cluster.process.waitUntilExit()
    }

    /// The values of `keys` as `client` returns them, by multi-key `get` in batches.
    private func values(_ keys: [String], from client: LineClient) throws -> [String: String] {
        var found: [String: String] = [:]
        for start in stride(from: 0, to: keys.count, by: 100) {
            try client.send("get " + keys[start..<min(keys.count, start + 100)].joined(separator: " ") + "\r\n")
            while let line = try client.readLine(), line != "END\r" {
                let words = line.split(separator: " ")
                guard words.first == "VALUE", words.count >= 4 else { continue }  // e.g. SERVER_ERROR
                found[String(words[1])] = String((try client.readLine() ?? "").dropLast())
            }
        }
        return found
    }

    func testKeysSpreadOverInstancesAndSurviveALostOne() throws {
        let cluster = try startCluster(instances: 3)
        defer { stop(cluster) }
        XCTAssertEqual(cluster.instances.count, 3)
        let proxy = try LineClient(port: cluster.proxyPort)
        let keys = (0..<10_000).map { "key:\($0)" }
        for start in stride(from: 0, to: keys.count, by: 500) {
            let batch = keys[start..<(start + 500)]
            try proxy.send(batch.map { "set \($0) 0 0 \($0.utf8.count + 1)\r\nv\($0)\r\n" }.joined())
            for key in batch { XCTAssertEqual(try proxy.readLine(), "STORED\r", key) }
        }
        // Each key on exactly one instance.
        var owner: [String: Int] = [:]
        var itemsPerInstance: [Int] = []
        for (index, instance) in cluster.instances.enumerated() {
            let direct = try LineClient(port: instance.memcachedPort)
            try direct.send("stats\r\n")
            var items = -1
            while let line = try direct.readLine(), line != "END\r" {
                if line.hasPrefix("STAT curr_items ") { items = Int(line.dropFirst(16).dropLast()) ?? -1 }
            }
            itemsPerInstance.append(items)
            for key in try values(keys, from: direct).keys {
                XCTAssertNil(owner[key], "\(key) is on two instances")
                owner[key] = index
            }
        }
        XCTAssertEqual(itemsPerInstance.reduce(0, +), 10_000, "\(itemsPerInstance)")
        XCTAssertTrue(itemsPerInstance.allSatisfy { $0 > 1_000 }, "ketama spreads the keys: \(itemsPerInstance)")
        XCTAssertEqual(owner.count, 10_000)
        // Read back through the proxy.
        let all = try values(keys, from: proxy)
        XCTAssertEqual(all.count, 10_000)
        XCTAssertEqual(all["key:1234"], "vkey:1234")

        // One instance goes; the proxy ejects it and keeps serving the others' keys.
        let lost = cluster.instances[1]
        kill(lost.pid, SIGKILL)
        let survivors = keys.filter { owner[$0] != 1 }
        _ = try? values(Array(keys.prefix(300)), from: proxy)  // the failure that ejects it
        let afterLoss = try values(survivors, from: try LineClient(port: cluster.proxyPort))
        XCTAssertEqual(afterLoss.count, survivors.count, "keys of the instances still up")
    }
}
