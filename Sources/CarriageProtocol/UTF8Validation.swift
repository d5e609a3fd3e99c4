/// Checks that bytes are well-formed UTF-8 (RFC 3629): no overlong forms, no surrogates
/// (U+D800...U+DFFF), nothing above U+10FFFF, no stray or missing continuation bytes.
enum UTF8Validation {
    static func isValid(_ bytes: ArraySlice<UInt8>) -> Bool {
        bytes.withUnsafeBufferPointer { isValid($0) }
    }

    static func isValid(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        let count = bytes.count
        var index = 0
        while index < count {
            // Fast path: eight ASCII bytes at a time, as most requests are ASCII.
            while index + 8 <= count {
                let word = UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
                guard word & 0x8080_8080_8080_8080 == 0 else { break }
                index += 8
            }
            guard index < count else { return true }
            let lead = base[index]
            if lead < 0x80 {
                index += 1
                continue
            }
            // The allowed range of the second byte depends on the lead byte (Unicode table 3-7).
            let length: Int
            var low: UInt8 = 0x80
            var high: UInt8 = 0xBF
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; low = 0xA0  // overlong below U+0800
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; high = 0x9F  // surrogates
            case 0xF0: length = 4; low = 0x90  // overlong below U+10000
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; high = 0x8F  // above U+10FFFF
            default: return false  // continuation byte, overlong C0/C1, or F5...FF
            }
            guard count - index >= length else { return false }
            let second = base[index + 1]
            guard second >= low, second <= high else { return false }
            var position = index + 2
            while position < index + length {
                guard base[position] & 0xC0 == 0x80 else { return false }
                position += 1
            }
            index += length
        }
        return true
    }

    /// Whether every byte is ASCII.
    static func isASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var combined: UInt8 = 0
        for byte in bytes { combined |= byte }
        return combined < 0x80
    }
}
