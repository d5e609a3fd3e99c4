import XCTest

@testable import CarriageLoad

final class RequestTemplateTests: XCTestCase {
    func testWeightsMarkersAndPlaceholders() throws {
        let plain = try RequestTemplate(parsing: "PING", wire: .carriage, value: "v")
        XCTAssertEqual(plain.weight, 1)
        XCTAssertFalse(plain.expectsError)
        XCTAssertFalse(plain.usesKey)
        XCTAssertEqual(plain.requestPieces, [Array("PING\n".utf8)])

        let weighted = try RequestTemplate(parsing: "90:SET %k %v %n %%", wire: .carriage, value: "abcd")
        XCTAssertEqual(weighted.weight, 90)
        XCTAssertTrue(weighted.usesKey)
        XCTAssertEqual(weighted.requestPieces, [Array("SET ".utf8), Array(" abcd 4 %\n".utf8)])
        XCTAssertEqual(weighted.source, "90:SET %k %v %n %%")

        let marked = try RequestTemplate(parsing: "3:!FOO", wire: .carriage, value: "")
        XCTAssertEqual(marked.weight, 3)
        XCTAssertTrue(marked.expectsError)

        // A colon later in the line is not a weight.
        let colon = try RequestTemplate(parsing: "ECHO a:b", wire: .carriage, value: "")
        XCTAssertEqual(colon.weight, 1)
        XCTAssertEqual(colon.requestPieces, [Array("ECHO a:b\n".utf8)])

        let escapes = try RequestTemplate(parsing: "set k 0 0 2\\r\\n\\\\x", wire: .memcached, value: "")
        XCTAssertEqual(escapes.requestPieces, [Array("set k 0 0 2\r\n\\x\r\n".utf8)])
    }

    func testBadTemplatesSayWhy() {
        XCTAssertTrue(refusal("0:PING")?.contains("weight must be 1 to 1000000") ?? false)
        XCTAssertTrue(refusal("1000001:PING")?.contains("weight") ?? false)
        XCTAssertTrue(refusal("")?.contains("empty") ?? false)
        XCTAssertTrue(refusal(" PING")?.contains("starts with a space") ?? false)
        XCTAssertTrue(refusal("ECHO \\q")?.contains("unknown escape") ?? false)
        XCTAssertTrue(refusal("ECHO \\")?.contains("lone") ?? false)
        // Every message names the flag it is about.
        XCTAssertTrue(refusal("FOO")?.hasPrefix("--request 'FOO': ") ?? false)
    }

    /// Templates are picked in proportion to their weights; keys uniformly.
    func testMixPicksByWeight() throws {
        let templates = try ["90:GET %k", "10:SET %k %v"].map { try RequestTemplate(parsing: $0, wire: .carriage, value: "x") }
        let mix = RequestMix(templates: templates, keyCount: 4, keyPrefix: "k")
        var random = FastRandom(seed: 42)
        var cursor = KeyCursor(order: .random, count: 4, thread: 0, threads: 1)
        var picks = [0, 0]
        var keys = [Int](repeating: 0, count: 4)
        for _ in 0..<100_000 {
            let (template, key) = mix.pick(&random, keys: &cursor)
            picks[template] += 1
            keys[key] += 1
        }
        XCTAssertEqual(Double(picks[0]) / 100_000, 0.9, accuracy: 0.01)
        for count in keys { XCTAssertEqual(Double(count) / 100_000, 0.25, accuracy: 0.01) }

        var buffer = ByteBuffer(capacity: 16)
        mix.render(template: 1, key: 3, into: &buffer)
        XCTAssertEqual(String(decoding: buffer.readable, as: UTF8.self), "SET k3 x\n")
        XCTAssertEqual(mix.maxRequestLength, "SET k3 x\n".utf8.count)
    }

    /// Sequential keys: threads interleave, and together take every key once per round.
    func testSequentialKeysCoverEveryKeyOnce() {
        var random = FastRandom(seed: 1)
        var taken: [Int] = []
        for thread in 0..<3 {
            var cursor = KeyCursor(order: .sequential, count: 10, thread: thread, threads: 3)
            let share = 10 / 3 + (thread < 10 % 3 ? 1 : 0)
            for _ in 0..<share { taken.append(cursor.take(&random)) }
        }
        XCTAssertEqual(taken.sorted(), Array(0..<10))
        var wrapping = KeyCursor(order: .sequential, count: 3, thread: 0, threads: 1)
        XCTAssertEqual((0..<7).map { _ in wrapping.take(&random) }, [0, 1, 2, 0, 1, 2, 0])
    }
}
