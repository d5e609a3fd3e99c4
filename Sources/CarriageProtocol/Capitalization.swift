/// `CAP`: the first character title-cased, the rest lower-cased, like Python's
/// `str.capitalize` (Python 3.8 and later).
///
/// "Character" means Unicode scalar, as in Python, and the mappings are Unicode's full ones:
/// `ǆemal` gives `ǅemal` (titlecase, not uppercase), a leading `ß` gives `Ss`, a later `ß`
/// stays `ß`, `İ` lower-cases to `i̇`. A capital sigma becomes final `ς` where Unicode's
/// Final_Sigma context says so (after a cased letter, not before one), as Python does.
package enum Capitalization {
    /// Appends the capitalized form of `text`, which must be valid UTF-8, to `output`.
    /// Ill-formed sequences, should any reach it, come out as U+FFFD.
    package static func appendCapitalized(_ text: ArraySlice<UInt8>, to output: inout [UInt8]) {
        let ascii = text.withUnsafeBufferPointer { UTF8Validation.isASCII($0) }
        if ascii {
            appendCapitalizedASCII(text, to: &output)
        } else {
            appendCapitalizedUnicode(text, to: &output)
        }
    }

    private static func appendCapitalizedASCII(_ text: ArraySlice<UInt8>, to output: inout [UInt8]) {
        output.reserveCapacity(output.count + text.count)
        var first = true
        for byte in text {
            if first {
                first = false
                output.append(isASCIILower(byte) ? byte - 0x20 : byte)
            } else {
                output.append(isASCIIUpper(byte) ? byte + 0x20 : byte)
            }
        }
    }

    private static func appendCapitalizedUnicode(_ text: ArraySlice<UInt8>, to output: inout [UInt8]) {
        // Decoded up front: the final-sigma rule looks at the scalars on both sides.
        var scalars: [Unicode.Scalar] = []
        scalars.reserveCapacity(text.count)
        var iterator = text.makeIterator()
        var decoder = Unicode.UTF8()
        decoding: while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar): scalars.append(scalar)
            case .error: scalars.append("\u{FFFD}")
            case .emptyInput: break decoding
            }
        }
        output.reserveCapacity(output.count + text.count)
        for (position, scalar) in scalars.enumerated() {
            if position == 0 {
                append(scalar.properties.titlecaseMapping, to: &output)
            } else if scalar.isASCII {
                let byte = UInt8(truncatingIfNeeded: scalar.value)
                output.append(isASCIIUpper(byte) ? byte + 0x20 : byte)
            } else if scalar == capitalSigma {
                append(isFinalSigma(scalars, at: position) ? finalSigma : smallSigma, to: &output)
            } else {
                append(scalar.properties.lowercaseMapping, to: &output)
            }
        }
    }

    private static let capitalSigma: Unicode.Scalar = "\u{03A3}"
    private static let smallSigma: Unicode.Scalar = "\u{03C3}"
    private static let finalSigma: Unicode.Scalar = "\u{03C2}"

    /// Unicode's Final_Sigma condition (table 3-17): a cased letter before, skipping
    /// case-ignorable ones, and no cased letter after, skipping case-ignorable ones.
    private static func isFinalSigma(_ scalars: [Unicode.Scalar], at position: Int) -> Bool {
        var before = position - 1
        while before >= 0 && scalars[before].properties.isCaseIgnorable { before -= 1 }
        guard before >= 0, scalars[before].properties.isCased else { return false }
        var after = position + 1
        while after < scalars.count && scalars[after].properties.isCaseIgnorable { after += 1 }
        return after == scalars.count || !scalars[after].properties.isCased
    }

    private static func isASCIILower(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")
    }

    private static func isASCIIUpper(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z")
    }

    private static func append(_ mapping: String, to output: inout [UInt8]) {
        // Case mappings are a few scalars at most: small strings, stored inline, no allocation.
        output.append(contentsOf: mapping.utf8)
    }

    private static func append(_ scalar: Unicode.Scalar, to output: inout [UInt8]) {
        Unicode.UTF8.encode(scalar) { output.append($0) }
    }
}
