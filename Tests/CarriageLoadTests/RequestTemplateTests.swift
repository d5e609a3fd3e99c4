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
        var picks = [0, 0]
        var keys = [Int](repeating: 0, count: 4)
        for _ in 0..<100_000 {
            let (template, key) = mix.pick(&random)
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
}
