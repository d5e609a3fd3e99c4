import XCTest

@testable import CarriageProtocol
import CarriageTestSupport

final class CapitalizationTests: XCTestCase {
    /// Expected values are Python 3.11's `str.capitalize()`.
    func testCapitalize() {
        let cases: [(String, String)] = [
            ("hELLO wORLD", "Hello world"),
            ("hello", "Hello"),
            ("Hello", "Hello"),
            ("HELLO", "Hello"),
            ("", ""),
            ("a", "A"),
            ("Z", "Z"),
            ("123abc DEF", "123abc def"),
            (" leading space", " leading space"),
            ("  HELLO  ", "  hello  "),
            ("@[`{", "@[`{"),  // neighbours of the letters are not letters
            ("élan", "Élan"),
            ("ÉCOLE", "École"),
            ("Élan", "Élan"),
            ("mIXED ÀÉÎ", "Mixed àéî"),
            ("ǆemal", "ǅemal"),  // titlecase, not uppercase (Ǆ)
            ("ǅEMAL", "ǅemal"),
            ("ǉubljana", "ǈubljana"),
            ("straße", "Straße"),  // ß stays lower case
            ("STRASSE", "Strasse"),
            ("ßa", "Ssa"),  // titlecase of ß is Ss
            ("ﬁne", "Fine"),  // the ligature's titlecase is two letters
            ("ŉ", "ʼN"),
            ("İstanbul", "İstanbul"),
            ("aİ", "Ai\u{307}"),  // full lowercase mapping of İ
            ("abc DEF ĞHI", "Abc def ğhi"),
            ("日本語", "日本語"),
            ("\u{345}abc", "\u{399}abc"),
            ("ΟΔΟΣ", "Οδος"),  // final sigma
            ("ΟΔΟΣ ΑΒ", "Οδος αβ"),
            ("ΣΑ", "Σα"),
            ("Σ", "Σ"),
            ("a.Σ", "A.ς"),  // '.' is case-ignorable
            ("AΣ.", "Aς."),
            ("ΑΣ'Β", "Ασ'β"),  // a cased letter follows: not final
            ("ΑΣ'", "Ας'"),
            ("ΑΣ\u{301}", "Ας\u{301}"),
            ("1Σ", "1σ"),  // nothing cased before: not final
            ("😀ABC", "😀abc"),
        ]
        for (text, expected) in cases {
            var output = Array("<".utf8)
            Capitalization.appendCapitalized(slice(text), to: &output)
            XCTAssertEqual(String(decoding: output, as: UTF8.self), "<" + expected, "CAP \(text)")
        }
    }

    func testIllFormedInputBecomesReplacementCharacter() {
        var output: [UInt8] = []
        Capitalization.appendCapitalized(slice([0x41, 0xC3, 0x41, 0xFF]), to: &output)
        XCTAssertEqual(String(decoding: output, as: UTF8.self), "A\u{FFFD}a\u{FFFD}")
    }
}
