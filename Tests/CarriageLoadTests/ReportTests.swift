import CarriagePosix
import Foundation
import XCTest

@testable import CarriageLoad

final class ReportTests: XCTestCase {
    private func report(requests: Int, errors: [ErrorKind: Int] = [:]) throws -> Report {
        let templates = [try RequestTemplate(parsing: "ECHO \"quoted\"\\tand\\\\", wire: .carriage, value: "")]
        let plan = LoadPlan(
            address: try SocketAddress(host: "127.0.0.1", port: 8000, passive: false),
            wire: .carriage, templates: templates, keyCount: 10, keyPrefix: "key:", keyOrder: .random,
            checkedValue: nil, connections: 3, idle: 2, threads: 1, pipeline: 4, duration: 2, requests: nil,
            connectPerRequest: false, timeoutNanoseconds: 1_000_000_000)
        var stats = ThreadStats()
        stats.requests = requests
        stats.connects = 5
        for (kind, count) in errors { stats.count(kind, count) }
        for latency in 1...requests { stats.recordLatency(UInt64(latency) * 1000) }
        stats.sample("wrong reply to 'x': 'ERR \"y\"'")
        return Report(plan: plan, stats: stats, elapsed: 2, cpuUser: 0.25, cpuSystem: 0.5, idleOpen: 2,
                      stopReason: .duration)
    }

    func testJSONCarriesEveryFieldAndEscapes() throws {
        let report = try report(requests: 1000, errors: [.errorReply: 2, .busy: 1])
        let object = try JSONSerialization.jsonObject(with: Data(report.json().utf8))
        let json = try XCTUnwrap(object as? [String: Any])
        XCTAssertEqual(json["requests"] as? Int, 1000)
        XCTAssertEqual(json["errors"] as? Int, 3)
        XCTAssertEqual(json["requests_per_second"] as? Double, 500)
        XCTAssertEqual(json["connections"] as? Int, 3)
        XCTAssertEqual(json["idle_open"] as? Int, 2)
        XCTAssertEqual(json["stopped"] as? String, "duration")
        XCTAssertEqual(json["cpu_seconds"] as? Double, 0.75)
        XCTAssertEqual(json["requests_mix"] as? [String], ["ECHO \"quoted\"\\tand\\\\"])
        XCTAssertEqual(json["error_samples"] as? [String], ["wrong reply to 'x': 'ERR \"y\"'"])
        let kinds = try XCTUnwrap(json["errors_by_kind"] as? [String: Int])
        XCTAssertEqual(kinds, ["connect_failed": 0, "reset": 0, "closed": 0, "timeout": 0, "wrong_reply": 0,
                               "error_reply": 2, "busy": 1])
        let latency = try XCTUnwrap(json["latency_us"] as? [String: Double])
        XCTAssertEqual(Set(latency.keys), ["p50", "p90", "p99", "p999", "max", "mean"])
        XCTAssertEqual(try XCTUnwrap(latency["p50"]), 500, accuracy: 1)
        XCTAssertEqual(try XCTUnwrap(latency["max"]), 1000, accuracy: 1)
        XCTAssertEqual(report.exitStatus, 1)
    }

    func testTextSummary() throws {
        let report = try report(requests: 10)
        let text = report.text()
        XCTAssertTrue(text.hasPrefix("carriage-load: carriage at 127.0.0.1:8000, 3 connections, pipeline 4, 1 thread, 2 idle; stopped: duration"), text)
        XCTAssertTrue(text.contains("requests      10 in 2.00 s = 5.0 requests/s"), text)
        XCTAssertTrue(text.contains("errors        0 (connect_failed 0, reset 0, closed 0, timeout 0, wrong_reply 0, error_reply 0, busy 0)"), text)
        XCTAssertTrue(text.contains("idle          2 of 2 open at the end"), text)
        XCTAssertTrue(text.contains("tool cpu      0.75 s (user 0.25, system 0.50)"), text)
        XCTAssertEqual(report.exitStatus, 0)
    }

    func testFixedFormatting() {
        XCTAssertEqual(Report.fixed(1.25, 1), "1.3")  // half away from zero
        XCTAssertEqual(Report.fixed(-0.5, 0), "-1")
        XCTAssertEqual(Report.fixed(3, 1), "3.0")
        XCTAssertEqual(Report.fixed(.nan, 2), "0")
        XCTAssertEqual(Report.quoted("a\u{1}\n"), "\"a\\u0001\\n\"")
    }
}
