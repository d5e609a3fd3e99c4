import Glibc

/// A read-only view of bytes that one of the load tool's buffers owns (a connection's
/// input, the request mix's arena): bounds-checked reads and slices, and the memchr and
/// memcmp the reply parsers need. The parsers' pointer work lives here, in one small type;
/// they see only this safe surface.
///
/// A view is valid while its owner is neither mutated nor freed: the parsers use one within
/// a single call, and keep none.
struct Bytes {
    private let base: UnsafeRawPointer?
    let count: Int

    /// A view of `buffer`, which the caller keeps alive and unchanged while the view is used.
    @inline(__always)
    init(_ buffer: UnsafeRawBufferPointer) {
        base = buffer.baseAddress
        count = buffer.count
    }

    @inline(__always)
    private init(base: UnsafeRawPointer?, count: Int) {
        self.base = base
        self.count = count
    }

    var isEmpty: Bool { count == 0 }

    var first: UInt8? { isEmpty ? nil : self[0] }

    /// The viewed memory, for a buffer that copies it.
    @inline(__always)
    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        body(UnsafeRawBufferPointer(start: base, count: count))
    }

    @inline(__always)
    subscript(index: Int) -> UInt8 {
        precondition(index >= 0 && index < count, "byte index out of the view")
        return base!.load(fromByteOffset: index, as: UInt8.self)
    }

    /// The bytes in `range`, a view of the same memory.
    @inline(__always)
    subscript(range: Range<Int>) -> Bytes {
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "range out of the view")
        return range.isEmpty ? Bytes(base: nil, count: 0) : Bytes(base: base! + range.lowerBound, count: range.count)
    }

    /// The bytes from `start` to the end.
    @inline(__always)
    func suffix(from start: Int) -> Bytes {
        self[start..<count]
    }

    /// The first index of `byte` at or after `offset` (memchr), or nil.
    @inline(__always)
    func firstIndex(of byte: UInt8, from offset: Int) -> Int? {
        guard let base, offset < count, let found = memchr(base + offset, Int32(byte), count - offset) else { return nil }
        return base.distance(to: UnsafeRawPointer(found))
    }

    @inline(__always)
    func equals(_ other: Bytes) -> Bool {
        guard count == other.count else { return false }
        guard count > 0, let base, let otherBase = other.base else { return true }
        return memcmp(base, otherBase, count) == 0
    }

    @inline(__always)
    func hasPrefix(_ literal: StaticString) -> Bool {
        let n = literal.utf8CodeUnitCount
        guard count >= n else { return false }
        guard n > 0, let base else { return true }
        return memcmp(base, literal.utf8Start, n) == 0
    }

    @inline(__always)
    func equals(_ literal: StaticString) -> Bool {
        count == literal.utf8CodeUnitCount && hasPrefix(literal)
    }

    /// Whether `literal` occurs anywhere (for the rare busy and error texts).
    func contains(_ literal: StaticString) -> Bool {
        let n = literal.utf8CodeUnitCount
        guard n > 0 else { return true }
        guard count >= n else { return false }
        for offset in 0...(count - n) where suffix(from: offset).hasPrefix(literal) {
            return true
        }
        return false
    }
}
