import CarriageStore

/// The space-separated tokens of a memcached command line, read in order without
/// allocating. Runs of spaces separate as one, as memcached's tokenizer does.
struct MemcachedTokens {
    private let line: ArraySlice<UInt8>
    private var position: Int

    init(_ line: ArraySlice<UInt8>) {
        self.line = line
        self.position = line.startIndex
    }

    mutating func next() -> ArraySlice<UInt8>? {
        while position < line.endIndex && line[position] == UInt8(ascii: " ") { position += 1 }
        guard position < line.endIndex else { return nil }
        let start = position
        while position < line.endIndex && line[position] != UInt8(ascii: " ") { position += 1 }
        return line[start..<position]
    }

    /// The tokens not read yet, counted.
    var remaining: Int {
        var copy = self
        var count = 0
        while copy.next() != nil { count += 1 }
        return count
    }
}

extension ArraySlice<UInt8> {
    /// Whether these bytes are `text` exactly.
    func equals(_ text: StaticString) -> Bool {
        guard count == text.utf8CodeUnitCount else { return false }
        return text.withUTF8Buffer { elementsEqual($0) }
    }

    /// memcached's `safe_strtoull`: decimal digits only.
    var unsignedValue: UInt64? { DecimalInteger.parseUnsigned(self) }

    /// memcached's `safe_strtol`: an optional `-`, then decimal digits.
    var signedValue: Int64? { DecimalInteger.parse(self) }
}
