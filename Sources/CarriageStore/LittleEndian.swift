/// The snapshot file's integers: little-endian, read and written byte by byte (no
/// alignment needed), for ``SnapshotRecord`` and the file around the records.
package enum LittleEndian {
    /// The integer at `offset` from the start of `bytes`.
    package static func read<T: FixedWidthInteger>(_ bytes: ArraySlice<UInt8>, at offset: Int, as _: T.Type) -> T {
        var value: T = 0
        for i in 0..<MemoryLayout<T>.size { value |= T(bytes[bytes.startIndex + offset + i]) << (8 * i) }
        return value
    }

    /// Appends `value` to `buffer`.
    package static func append<T: FixedWidthInteger>(_ value: T, to buffer: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { buffer.append(contentsOf: $0) }
    }
}
