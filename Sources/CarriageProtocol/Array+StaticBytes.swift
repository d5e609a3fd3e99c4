extension Array where Element == UInt8 {
    /// Appends the UTF-8 bytes of a literal, without building a String.
    package mutating func append(static text: StaticString) {
        text.withUTF8Buffer { append(contentsOf: $0) }
    }
}
