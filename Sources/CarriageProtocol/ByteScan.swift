import Glibc

extension ArraySlice where Element == UInt8 {
    /// The index of the first `byte`, or nil: `memchr`, so a long line is scanned at memory
    /// speed, also in an unoptimised or sanitized build (where a Swift loop is a call per
    /// byte). Request framing looks for every LF with it.
    package func firstIndex(ofByte byte: UInt8) -> Int? {
        withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress, let found = memchr(base, Int32(byte), buffer.count) else { return nil }
            return startIndex + (UnsafeRawPointer(found) - UnsafeRawPointer(base))
        }
    }
}
