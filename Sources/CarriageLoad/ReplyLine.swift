import Glibc

/// One LF-terminated line inside a reply buffer, found with `memchr`; a CR right before
/// the LF is not part of the text. Also the byte comparisons the parsers share.
struct ReplyLine {
    /// The text is `start..<end`; the next line starts at `next`.
    let start: Int
    let end: Int
    let next: Int

    /// The first complete line at or after `offset`, or nil when no LF has arrived yet.
    @inline(__always)
    static func find(in bytes: UnsafeRawBufferPointer, from offset: Int) -> ReplyLine? {
        guard let base = bytes.baseAddress, offset < bytes.count,
              let found = memchr(base + offset, 10, bytes.count - offset) else { return nil }
        let lf = base.distance(to: UnsafeRawPointer(found))
        let end = (lf > offset && bytes[lf - 1] == 13) ? lf - 1 : lf
        return ReplyLine(start: offset, end: end, next: lf + 1)
    }

    /// The line's text.
    @inline(__always)
    func text(in bytes: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: bytes[start..<end])
    }

    @inline(__always)
    static func equals(_ text: UnsafeRawBufferPointer, _ literal: StaticString) -> Bool {
        text.count == literal.utf8CodeUnitCount && hasPrefix(text, literal)
    }

    @inline(__always)
    static func hasPrefix(_ text: UnsafeRawBufferPointer, _ literal: StaticString) -> Bool {
        let n = literal.utf8CodeUnitCount
        guard text.count >= n else { return false }
        if n == 0 { return true }
        return memcmp(text.baseAddress!, literal.utf8Start, n) == 0
    }

    @inline(__always)
    static func equals(_ text: UnsafeRawBufferPointer, _ other: UnsafeRawBufferPointer) -> Bool {
        guard text.count == other.count else { return false }
        if text.count == 0 { return true }
        return memcmp(text.baseAddress!, other.baseAddress!, text.count) == 0
    }

    /// Whether `text` contains `literal` (for the rare busy/error texts).
    static func contains(_ text: UnsafeRawBufferPointer, _ literal: StaticString) -> Bool {
        let n = literal.utf8CodeUnitCount
        guard n > 0, text.count >= n else { return n == 0 }
        for i in 0...(text.count - n) where memcmp(text.baseAddress! + i, literal.utf8Start, n) == 0 {
            return true
        }
        return false
    }

    /// Whether `text` says the server refused the connection: Carriage's `BUSY ...`,
    /// memcached's "Too many open connections", Redis's "max number of clients".
    static func isBusy(_ text: UnsafeRawBufferPointer) -> Bool {
        hasPrefix(text, "BUSY") || contains(text, "Too many open connections") || contains(text, "max number of clients")
    }

    /// `-`? then 1 to 19 decimal digits (a 64-bit integer's shape; the server checks range).
    @inline(__always)
    static func isInteger(_ text: UnsafeRawBufferPointer, allowSign: Bool = true) -> Bool {
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
    static func decimal(_ text: UnsafeRawBufferPointer, from: Int, to: Int) -> Int? {
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
    static func sample(_ bytes: UnsafeRawBufferPointer, limit: Int = 80, trimmingTerminator: Bool = false) -> String {
        var bytes = bytes
        if trimmingTerminator, bytes.last == 10 {
            bytes = UnsafeRawBufferPointer(rebasing: bytes.dropLast(bytes.count > 1 && bytes[bytes.count - 2] == 13 ? 2 : 1))
        }
        var s = ""
        for byte in bytes.prefix(limit) {
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
