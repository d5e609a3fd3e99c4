/// One LF-terminated line inside a reply buffer; a CR right before the LF is not part of
/// the text. Also the byte tests the parsers share.
struct ReplyLine {
    /// The text is `start..<end`; the next line starts at `next`.
    let start: Int
    let end: Int
    let next: Int

    /// The first complete line at or after `offset`, or nil when no LF has arrived yet.
    @inline(__always)
    static func find(in bytes: Bytes, from offset: Int) -> ReplyLine? {
        guard let lf = bytes.firstIndex(of: 10, from: offset) else { return nil }
        let end = (lf > offset && bytes[lf - 1] == 13) ? lf - 1 : lf
        return ReplyLine(start: offset, end: end, next: lf + 1)
    }

    /// The line's text.
    @inline(__always)
    func text(in bytes: Bytes) -> Bytes {
        bytes[start..<end]
    }

    @inline(__always)
    static func equals(_ text: Bytes, _ literal: StaticString) -> Bool {
        text.equals(literal)
    }

    @inline(__always)
    static func hasPrefix(_ text: Bytes, _ literal: StaticString) -> Bool {
        text.hasPrefix(literal)
    }

    @inline(__always)
    static func equals(_ text: Bytes, _ other: Bytes) -> Bool {
        text.equals(other)
    }

    /// Whether `text` contains `literal` (for the rare busy/error texts).
    static func contains(_ text: Bytes, _ literal: StaticString) -> Bool {
        text.contains(literal)
    }

    /// Whether `text` says the server refused the connection: Carriage's `BUSY ...`,
    /// memcached's "Too many open connections", Redis's "max number of clients".
    static func isBusy(_ text: Bytes) -> Bool {
        hasPrefix(text, "BUSY") || contains(text, "Too many open connections") || contains(text, "max number of clients")
    }

    /// `-`? then 1 to 19 decimal digits (a 64-bit integer's shape; the server checks range).
    @inline(__always)
    static func isInteger(_ text: Bytes, allowSign: Bool = true) -> Bool {
        var i = 0
        if allowSign, text.count > 0, text[0] == UInt8(ascii: "-") { i = 1 }
        let digits = text.count - i
        guard digits >= 1, digits <= 20 else { return false }
        while i < text.count {
            let c = text[i]
            if c < 48 || c > 57 { return false }
            i += 1
        }
        return true
    }

    /// The decimal number `text[from..<to]`, or nil (also for more than 18 digits).
    static func decimal(_ text: Bytes, from: Int, to: Int) -> Int? {
        guard to > from, to - from <= 18 else { return nil }
        var value = 0
        for i in from..<to {
            let c = text[i]
            if c < 48 || c > 57 { return nil }
            value = value * 10 + Int(c - 48)
        }
        return value
    }

    /// The text as a printable Swift string, for error samples (off the hot path).
    static func sample(_ bytes: Bytes, limit: Int = 80, trimmingTerminator: Bool = false) -> String {
        var bytes = bytes
        if trimmingTerminator, bytes.count > 0, bytes[bytes.count - 1] == 10 {
            bytes = bytes[0..<(bytes.count - (bytes.count > 1 && bytes[bytes.count - 2] == 13 ? 2 : 1))]
        }
        var s = ""
        for index in 0..<min(limit, bytes.count) {
            let byte = bytes[index]
            switch byte {
            case 13: s += "\\r"
            case 10: s += "\\n"
            case 32..<127: s.unicodeScalars.append(Unicode.Scalar(byte))
            default: s += "\\x" + String(byte, radix: 16)
            }
        }
        if bytes.count > limit { s += "..." }
        return s
    }
}
