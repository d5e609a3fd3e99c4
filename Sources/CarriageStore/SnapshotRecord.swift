/// One item as a snapshot file holds it, and its encoding: the store's own serialization,
/// so that the layer writing files (the server) never needs the item layout.
///
/// | size | field |
/// | --- | --- |
/// | 1 | key length |
/// | 1 | marks (`ItemMarks`) |
/// | 4 | client flags |
/// | 8 | expiry, unix seconds; 0 for never |
/// | 8 | CAS unique |
/// | 4 | value length |
/// | key length | key |
/// | value length | value |
///
/// Integers are little-endian. Expiry is in unix time, not the store's clock (which starts
/// again with each process).
public struct SnapshotRecord: Equatable, Sendable {
    public var key: ArraySlice<UInt8>
    public var value: ArraySlice<UInt8>
    public var flags: UInt32
    public var marks: ItemMarks
    /// Unix seconds; 0 for never.
    public var unixExpiry: Int64
    public var cas: UInt64

    public init(key: ArraySlice<UInt8>, value: ArraySlice<UInt8>, flags: UInt32 = 0,
                marks: ItemMarks = [], unixExpiry: Int64 = 0, cas: UInt64) {
        self.key = key
        self.value = value
        self.flags = flags
        self.marks = marks
        self.unixExpiry = unixExpiry
        self.cas = cas
    }

    /// Bytes before the key.
    public static let headerSize = 26

    /// Bytes of one record.
    static func size(keyCount: Int, valueCount: Int) -> Int {
        headerSize + keyCount + valueCount
    }

    /// What a decode found.
    public enum Decoded: Equatable {
        case record(SnapshotRecord, consumed: Int)
        /// `bytes` ends inside a record that needs this many bytes in all.
        case needs(Int)
        /// Lengths no item can have: the bytes are not a record.
        case invalid(String)
    }

    /// Decodes the record at the start of `bytes`. The record's key and value are slices of
    /// `bytes`.
    public static func decode(_ bytes: ArraySlice<UInt8>) -> Decoded {
        guard bytes.count >= headerSize else { return .needs(headerSize) }
        let start = bytes.startIndex
        func integer<T: FixedWidthInteger>(_ offset: Int, _ type: T.Type) -> T { LittleEndian.read(bytes, at: offset, as: type) }
        let keyCount = Int(bytes[start])
        let marks = ItemMarks(rawValue: UInt32(bytes[start + 1]))
        let valueCount = Int(integer(22, UInt32.self))
        guard keyCount > 0 else { return .invalid("an empty key") }
        guard marks.rawValue <= (ItemMarks.stale.rawValue | ItemMarks.winSent.rawValue) else {
            return .invalid("unknown marks \(marks.rawValue)")
        }
        guard valueCount <= ItemChunk.maxValueCount else { return .invalid("a value of \(valueCount) bytes") }
        let total = size(keyCount: keyCount, valueCount: valueCount)
        guard bytes.count >= total else { return .needs(total) }
        let keyStart = start + headerSize
        let record = SnapshotRecord(
            key: bytes[keyStart..<(keyStart + keyCount)],
            value: bytes[(keyStart + keyCount)..<(keyStart + keyCount + valueCount)],
            flags: integer(2, UInt32.self), marks: marks,
            unixExpiry: integer(6, Int64.self), cas: integer(14, UInt64.self))
        return .record(record, consumed: total)
    }

    /// Appends the record of an item to `buffer`, which has room for it (so nothing
    /// allocates: this runs under a shard's lock).
    static func append(
        key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, flags: UInt32, marks: ItemMarks,
        unixExpiry: Int64, cas: UInt64, to buffer: inout [UInt8]
    ) {
        buffer.append(UInt8(key.count))
        buffer.append(UInt8(truncatingIfNeeded: marks.rawValue))
        LittleEndian.append(flags, to: &buffer)
        LittleEndian.append(unixExpiry, to: &buffer)
        LittleEndian.append(cas, to: &buffer)
        LittleEndian.append(UInt32(value.count), to: &buffer)
        buffer.append(contentsOf: key)
        buffer.append(contentsOf: value)
    }

    /// Appends this record to `buffer`.
    public func encode(to buffer: inout [UInt8]) {
        key.withUnsafeBytes { key in
            value.withUnsafeBytes { value in
                Self.append(key: key, value: value, flags: flags, marks: marks, unixExpiry: unixExpiry, cas: cas, to: &buffer)
            }
        }
    }
}
