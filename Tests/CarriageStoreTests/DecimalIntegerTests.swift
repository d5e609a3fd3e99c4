import XCTest

import CarriageTestSupport
@testable import CarriageStore

final class DecimalIntegerTests: XCTestCase {
    func testParse() {
        let cases: [(String, Int64?)] = [
            ("0", 0), ("1", 1), ("-1", -1), ("-0", 0), ("007", 7), ("-007", -7),
            ("42", 42), ("1234567890", 1_234_567_890),
            ("9223372036854775807", .max), ("-9223372036854775808", .min),
            ("00000000000000000000009223372036854775807", .max),
            ("9223372036854775808", nil), ("-9223372036854775809", nil),
            ("99999999999999999999999999", nil),
            ("", nil), ("-", nil), ("+1", nil), ("+", nil), (" 1", nil), ("1 ", nil),
            ("1 2", nil), ("--1", nil), ("1-", nil), ("1.0", nil), ("1e3", nil), ("0x10", nil),
            ("abc", nil), ("١", nil), ("1\u{0}", nil), (":", nil), ("/", nil),
        ]
        for (text, expected) in cases {
            XCTAssertEqual(DecimalInteger.parse(slice(text)), expected, "parse(\"\(text)\")")
        }
    }

    func testAppend() {
        let cases: [(Int64, String)] = [
            (0, "0"), (1, "1"), (-1, "-1"), (10, "10"), (-10, "-10"), (1_000_000, "1000000"),
            (.max, "9223372036854775807"), (.min, "-9223372036854775808"),
        ]
        for (value, expected) in cases {
            var output = Array("x".utf8)
            DecimalInteger.append(value, to: &output)
            XCTAssertEqual(String(decoding: output, as: UTF8.self), "x" + expected)
            XCTAssertLessThanOrEqual(output.count - 1, DecimalInteger.maxLength)
            // `length` and `write`, which INCR uses to write into an item in place.
            XCTAssertEqual(DecimalInteger.length(of: value), expected.utf8.count)
            var written = [UInt8](repeating: 0, count: DecimalInteger.length(of: value))
            written.withUnsafeMutableBytes { DecimalInteger.write(value, into: $0) }
            XCTAssertEqual(String(decoding: written, as: UTF8.self), expected)
        }
    }

    func testRoundTrip() {
        var value: Int64 = 1
        for _ in 0..<200 {
            for candidate in [value, -value, value &- 1, value &+ 1] {
                var output: [UInt8] = []
                DecimalInteger.append(candidate, to: &output)
                XCTAssertEqual(DecimalInteger.parse(output[...]), candidate)
            }
            value = value &* 3 &+ 7
        }
    }
}
