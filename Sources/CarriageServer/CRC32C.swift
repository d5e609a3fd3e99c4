/// CRC-32C (Castagnoli), the checksum of a snapshot file: the polynomial iSCSI, ext4 and
/// SCTP use, table-driven, computed incrementally as the file is written or read.
struct CRC32C {
    private(set) var value: UInt32 = 0

    private static let table: [UInt32] = (0..<256).map { index in
        var crc = UInt32(index)
        for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        return crc
    }

    mutating func update(_ bytes: ArraySlice<UInt8>) {
        Self.table.withUnsafeBufferPointer { table in
            bytes.withUnsafeBufferPointer { bytes in
                var crc = ~value
                for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
                value = ~crc
            }
        }
    }
}
