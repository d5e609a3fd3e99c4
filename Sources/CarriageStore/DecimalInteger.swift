/// Signed 64-bit decimal integers as bytes: counters are stored as their decimal text.
///
/// The accepted form is strict: an optional `-`, then one or more ASCII digits, nothing else
/// (no `+`, no spaces, not empty). Leading zeros and `-0` are accepted.
package enum DecimalInteger {
    /// The value of `bytes`, or `nil` when they are not a decimal integer that fits in 64 bits.
    package static func parse<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> Int64? {
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
    package static let maxLength = 20

    /// Appends the decimal text of `value` to `output`, without building a String.
    package static func append(_ value: Int64, to output: inout [UInt8]) {
        let start = output.count
        output.append(contentsOf: repeatElement(0, count: length(of: value)))
        output.withUnsafeMutableBytes { write(value, into: UnsafeMutableRawBufferPointer(rebasing: $0[start...])) }
    }

    /// Appends the decimal text of `value` to `output`.
    package static func append(_ value: Int, to output: inout [UInt8]) {
        append(Int64(value), to: &output)
    }

    /// The length of the decimal text of `value`.
    package static func length(of value: Int64) -> Int {
        length(ofUnsigned: value.magnitude) + (value < 0 ? 1 : 0)
    }

    /// Writes the decimal text of `value` into `output`, which is exactly `length(of:)`
    /// bytes long.
    static func write(_ value: Int64, into output: UnsafeMutableRawBufferPointer) {
        guard value < 0 else { return write(unsigned: value.magnitude, into: output) }
        output[0] = UInt8(ascii: "-")
        write(unsigned: value.magnitude, into: UnsafeMutableRawBufferPointer(rebasing: output[1...]))
    }

    /// The value of `bytes` as an unsigned 64-bit decimal number (digits only, not empty),
    /// or nil: memcached's counters.
    package static func parseUnsigned<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> UInt64? {
        var value: UInt64 = 0
        var sawDigit = false
        for byte in bytes {
            let digit = byte &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            let (shifted, overflowMultiplying) = value.multipliedReportingOverflow(by: 10)
            let (next, overflowAdding) = shifted.addingReportingOverflow(UInt64(digit))
            guard !overflowMultiplying, !overflowAdding else { return nil }
            value = next
            sawDigit = true
        }
        return sawDigit ? value : nil
    }

    /// The length of the decimal text of `value`.
    package static func length(ofUnsigned value: UInt64) -> Int {
        var magnitude = value
        var digits = 1
        while magnitude >= 10 {
            magnitude /= 10
            digits += 1
        }
        return digits
    }

    /// Writes the decimal text of `value` into `output`, exactly `length(ofUnsigned:)` long.
    static func write(unsigned value: UInt64, into output: UnsafeMutableRawBufferPointer) {
        var magnitude = value
        var end = output.count
        repeat {
            end -= 1
            output[end] = UInt8(truncatingIfNeeded: magnitude % 10) &+ UInt8(ascii: "0")
            magnitude /= 10
        } while magnitude != 0
    }

    /// Appends the decimal text of `value` to `output`.
    package static func append(unsigned value: UInt64, to output: inout [UInt8]) {
        let start = output.count
        output.append(contentsOf: repeatElement(0, count: length(ofUnsigned: value)))
        output.withUnsafeMutableBytes { write(unsigned: value, into: UnsafeMutableRawBufferPointer(rebasing: $0[start...])) }
    }
}
