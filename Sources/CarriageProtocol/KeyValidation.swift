/// What the protocol accepts as a key: 1 to 250 bytes, no space, no control character.
///
/// Control characters are the C0 controls U+0000...U+001F, DEL U+007F, and the C1 controls
/// U+0080...U+009F (Unicode's general category Cc), whose UTF-8 form is C2 80...C2 9F. The
/// bytes are assumed to be valid UTF-8 already; the whole request line is checked first.
enum KeyValidation {
    static let maxLength = 250

    static func isValid<Bytes: Collection<UInt8>>(_ key: Bytes) -> Bool {
        guard !key.isEmpty, key.count <= maxLength else { return false }
        var previous: UInt8 = 0
        for byte in key {
            if byte <= 0x20 || byte == 0x7F { return false }
            if previous == 0xC2 && byte <= 0x9F { return false }
            previous = byte
        }
        return true
    }
}
