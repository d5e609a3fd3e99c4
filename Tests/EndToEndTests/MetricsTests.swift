import CarriageProtocol
import Foundation
import Glibc
import XCTest

/// `--metrics-port`: Prometheus' `GET /metrics`, parsed by Prometheus' own Python parser
/// and checked against STATS.
final class MetricsTests: XCTestCase {
    /// The port from the daemon's `metrics listening on` line.
    private func metricsPort(_ daemon: TestDaemon) throws -> Int {
        XCTAssertTrue(daemon.awaitLog(containing: "metrics listening on"), daemon.stderrText)
        let text = daemon.stderrText
        let range = try XCTUnwrap(text.range(of: #"metrics listening on [^ \n]+:([0-9]+)"#, options: .regularExpression))
        return try XCTUnwrap(Int(text[range].split(separator: ":").last!))
    }

    /// One HTTP/1.0 GET: the status line and the body.
    private func get(_ path: String, port: Int) throws -> (status: String, body: String) {
        let client = try LineClient(port: port)
        try client.send("GET \(path) HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        var lines: [String] = []
        while let line = try client.readLine() { lines.append(line) }
        let status = lines.first ?? ""
        let blank = lines.firstIndex(of: "\r") ?? lines.count
        return (status, lines.dropFirst(blank + 1).joined(separator: "\n") + "\n")
    }

    /// Runs a Python script with `input` on its standard input.
    private func python(_ script: String, input: String) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script]
        let stdin = Pipe()
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stdout
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }

    func testMetricsParseAndMatchStats() throws {
        guard (try? python("import prometheus_client", input: "").status) == 0 else {
            throw XCTSkip("python3 with prometheus_client is not available (scripts/test.sh installs it)")
        }
        let daemon = try TestDaemon(["--metrics-port", "0"])
        defer { daemon.stopCleanly() }
        let port = try metricsPort(daemon)
        let client = try daemon.connect()
        for i in 0..<50 { XCTAssertEqual(try client.request("SET k\(i) v"), "OK") }
        XCTAssertEqual(try client.request("GET k1"), "OK v")
        XCTAssertEqual(try client.request("GET missing"), "NONE")
        let stats = try client.stats()  // the 53rd request

        let (status, body) = try get("/metrics", port: port)
        XCTAssertTrue(status.hasPrefix("HTTP/1.0 200"), status)
        // prometheus_client's parser reads it, and prints name{labels} value per sample.
        let script = """
            import sys
            from prometheus_client.parser import text_string_to_metric_families
            for family in text_string_to_metric_families(sys.stdin.read()):
                for sample in family.samples:
                    labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
                    print(f"{family.type} {sample.name}{{{labels}}} {sample.value}")
            """
        let parsed = try python(script, input: body)
        XCTAssertEqual(parsed.status, 0, parsed.output)
        var samples: [String: Double] = [:]
        var types: [String: String] = [:]
        for line in parsed.output.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count == 3 else { continue }
            samples[String(fields[1])] = Double(fields[2])
            types[String(fields[1])] = String(fields[0])
        }
        XCTAssertEqual(samples["carriage_keys{}"], Double(stats["keys"] ?? -1))
        XCTAssertEqual(samples["carriage_get_hits_total{}"], 1)
        XCTAssertEqual(samples["carriage_get_misses_total{}"], 1)
        XCTAssertEqual(types["carriage_get_hits_total{}"], "counter")
        XCTAssertEqual(samples["carriage_connections_current{}"], Double(stats["connections_current"] ?? -1))
        XCTAssertEqual(samples["carriage_requests_total{}"], Double(stats["requests_total"] ?? -1))
        XCTAssertEqual(samples["carriage_worker_requests_total{worker=0}"].map(Int.init), stats["worker.0.requests"])
        let perLoop = samples.filter { $0.key.hasPrefix("carriage_loop_connections{loop=") }
        XCTAssertEqual(perLoop.count, daemon.loops)
        XCTAssertEqual(perLoop.values.reduce(0, +), 1, "the one client connection, on whichever loop")
        XCTAssertEqual(samples["carriage_build_info{version=\(CarriageVersion.number)}"], 1)
        // Every job (a connection's turns, each one request or more) is in the histograms.
        let turns = try XCTUnwrap(samples["carriage_service_seconds_count{}"])
        XCTAssertGreaterThanOrEqual(turns, 1)
        XCTAssertLessThanOrEqual(turns, 54)
        XCTAssertEqual(samples["carriage_queue_wait_seconds_count{}"], turns)
        XCTAssertEqual(samples["carriage_service_seconds_bucket{le=+Inf}"], turns)
        XCTAssertEqual(types["carriage_service_seconds_count{}"], "histogram")

        XCTAssertTrue(try get("/other", port: port).status.hasPrefix("HTTP/1.0 404"))
    }
}
