import XCTest

@testable import CarriageProtocol
import CarriageTestSupport

final class UTF8ValidationTests: XCTestCase {
    func testValid() {
        let cases: [[UInt8]] = [
            [],
            Array("PING".utf8),
            Array("a long ASCII line that crosses several eight-byte words".utf8),
            Array("élan ǆemal straße 日本語 😀".utf8),
            Array("12345678é12345678".utf8),  // non-ASCII between fast-path words
            [0x00, 0x7F],
            [0xC2, 0x80], [0xDF, 0xBF],  // U+0080, U+07FF
            [0xE0, 0xA0, 0x80], [0xED, 0x9F, 0xBF], [0xEE, 0x80, 0x80], [0xEF, 0xBF, 0xBF],
            [0xF0, 0x90, 0x80, 0x80], [0xF4, 0x8F, 0xBF, 0xBF],  // U+10000, U+10FFFF
        ]
        for bytes in cases {
            XCTAssertTrue(UTF8Validation.isValid(slice(bytes)), "\(bytes)")
        }
    }

    func testInvalid() {
        let cases: [(String, [UInt8])] = [
            ("lone continuation", [0x80]),
            ("continuation after ASCII", Array("PING".utf8) + [0xBF]),
            ("overlong 2-byte NUL", [0xC0, 0x80]),
            ("overlong 2-byte slash", [0xC0, 0xAF]),
            ("overlong C1 lead", [0xC1, 0xBF]),
            ("overlong 3-byte", [0xE0, 0x80, 0xAF]),
            ("overlong 3-byte max", [0xE0, 0x9F, 0xBF]),
            ("overlong 4-byte", [0xF0, 0x80, 0x80, 0xAF]),
            ("overlong 4-byte max", [0xF0, 0x8F, 0xBF, 0xBF]),
            ("high surrogate", [0xED, 0xA0, 0x80]),
            ("low surrogate", [0xED, 0xBF, 0xBF]),
            ("surrogate pair (CESU-8)", [0xED, 0xA0, 0xBD, 0xED, 0xB8, 0x80]),
            ("above U+10FFFF", [0xF4, 0x90, 0x80, 0x80]),
            ("F5 lead", [0xF5, 0x80, 0x80, 0x80]),
            ("FE", [0xFE]), ("FF", [0xFF]),
            ("truncated 2-byte", [0xC3]),
            ("truncated 3-byte", [0xE2, 0x82]),
            ("truncated 4-byte", [0xF0, 0x9F, 0x98]),
            ("truncated at end of line", Array("ECHO caf".utf8) + [0xC3]),
            ("ASCII inside a sequence", [0xE2, 0x41, 0x82]),
            ("bad third byte", [0xE2, 0x82, 0x41]),
            ("bad fourth byte", [0xF0, 0x9F, 0x98, 0xC0]),
            ("invalid after 8 ASCII bytes", Array("ABCDEFGHIJ".utf8) + [0xFF] + Array("KLMNOPQRS".utf8)),
        ]
        for (name, bytes) in cases {
            XCTAssertFalse(UTF8Validation.isValid(slice(bytes)), name)
        }
    }

    func testAgreesWithStandardLibraryDecoder() {
        // Every 1- and 2-byte sequence, and 3-byte sequences with interesting bytes.
        func standardIsValid(_ bytes: [UInt8]) -> Bool {
            var iterator = bytes.makeIterator()
            var decoder = Unicode.UTF8()
            while true {
                switch decoder.decode(&iterator) {
                case .scalarValue: continue
                case .emptyInput: return true
                case .error: return false
                }
            }
        }
        let interesting: [UInt8] = [0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1,
                                    0xC2, 0xDF, 0xE0, 0xE1, 0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3,
                                    0xF4, 0xF5, 0xFF]
        for first in 0...255 {
            for second in 0...255 {
                let bytes = [UInt8(first), UInt8(second)]
                XCTAssertEqual(UTF8Validation.isValid(slice(bytes)), standardIsValid(bytes), "\(bytes)")
            }
        }
        for first in interesting {
            for second in interesting {
                for third in interesting {
                    for fourth in interesting {
                        let bytes = [first, second, third, fourth]
                        XCTAssertEqual(UTF8Validation.isValid(slice(bytes)), standardIsValid(bytes), "\(bytes)")
                    }
                }
            }
        }
    }
}
