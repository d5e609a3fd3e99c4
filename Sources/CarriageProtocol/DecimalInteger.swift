/// Signed 64-bit decimal integers as bytes: counters are stored as their decimal text.
///
/// The accepted form is strict: an optional `-`, then one or more ASCII digits, nothing else
/// (no `+`, no spaces, not empty). Leading zeros and `-0` are accepted.
enum DecimalInteger {
    /// The value of `bytes`, or `nil` when they are not a decimal integer that fits in 64 bits.
    static func parse<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> Int64? {
        var isFirst = true
        var negative = false
        var sawDigit = false
        // Accumulate downwards: the negative range is one larger, so Int64.min parses.
        var accumulator: Int64 = 0
        for byte in bytes {
            if isFirst {
                isFirst = false
                if byte == UInt8(ascii: "-") {
                    negative = true
                    continue
                }
            }
            let digit = byte &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            let (shifted, overflowMultiplying) = accumulator.multipliedReportingOverflow(by: 10)
            let (next, overflowSubtracting) = shifted.subtractingReportingOverflow(Int64(digit))
            guard !overflowMultiplying, !overflowSubtracting else { return nil }
            accumulator = next
            sawDigit = true
        }
        guard sawDigit else { return nil }
        if negative { return accumulator }
        let (positive, overflow) = Int64(0).subtractingReportingOverflow(accumulator)
        return overflow ? nil : positive
    }

    /// The longest text `append` writes: `-9223372036854775808`.
    static let maxLength = 20

    /// Appends the decimal text of `value` to `output`, without building a String.
    static func append(_ value: Int64, to output: inout [UInt8]) {
        var magnitude = value.magnitude
        // 20 digits hold any UInt64; the sign is appended separately.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var start = digits.count
            repeat {
                start -= 1
                digits[start] = UInt8(truncatingIfNeeded: magnitude % 10) &+ UInt8(ascii: "0")
                magnitude /= 10
            } while magnitude != 0
            if value < 0 { output.append(UInt8(ascii: "-")) }
            output.append(contentsOf: UnsafeBufferPointer(rebasing: digits[start...]))
        }
    }

    /// Appends the decimal text of `value` to `output`.
    static func append(_ value: Int, to output: inout [UInt8]) {
        append(Int64(value), to: &output)
    }
}
