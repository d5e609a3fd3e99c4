import XCTest

@testable import CarriageProtocol
import CarriageTestSupport

final class KeyValidationTests: XCTestCase {
    func testKeys() {
        let cases: [(String, [UInt8], Bool)] = [
            ("one byte", Array("k".utf8), true),
            ("250 bytes", Array(repeating: UInt8(ascii: "k"), count: 250), true),
            ("251 bytes", Array(repeating: UInt8(ascii: "k"), count: 251), false),
            ("250 bytes of 2-byte characters", Array(String(repeating: "é", count: 125).utf8), true),
            ("252 bytes of 2-byte characters", Array(String(repeating: "é", count: 126).utf8), false),
            ("empty", [], false),
            ("punctuation", Array("user:42/name-x_y.z@{}".utf8), true),
            ("non-ASCII", Array("clé日本😀".utf8), true),
            ("case kept", Array("AbC".utf8), true),
            ("space", Array("a b".utf8), false),
            ("leading space", Array(" a".utf8), false),
            ("trailing space", Array("a ".utf8), false),
            ("NUL", [0x61, 0x00], false),
            ("tab", [0x61, 0x09, 0x62], false),
            ("CR", [0x61, 0x0D], false),
            ("unit separator 0x1F", [0x1F], false),
            ("DEL 0x7F", [0x61, 0x7F], false),
            ("tilde 0x7E", [0x7E], true),
            ("C1 control U+0080", [0x61, 0xC2, 0x80], false),
            ("C1 control NEL U+0085", [0xC2, 0x85], false),
            ("C1 control U+009F", [0xC2, 0x9F], false),
            ("no-break space U+00A0 is not a control", [0xC2, 0xA0], true),
            ("U+00BF", [0xC2, 0xBF], true),
        ]
        for (name, bytes, valid) in cases {
            XCTAssertEqual(KeyValidation.isValid(slice(bytes)), valid, name)
        }
    }
}
