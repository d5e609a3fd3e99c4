/// The request templates of a run, compiled for one load thread: every literal byte (request
/// pieces, expected reply texts, the rendered keys) sits in one arena allocated at start-up,
/// so rendering a request is a few `memcpy`s into the connection's output buffer and
/// checking a reply is a few `memcmp`s. Each thread builds its own mix, so threads share no
/// reference-counted storage on the hot path.
final class RequestMix {
    private struct Segment {
        var offset: Int
        var length: Int
    }

    private struct Compiled {
        var firstSegment: Int
        var segmentCount: Int
        var maxLength: Int
        var usesKey: Bool
        var expected: ExpectedReply
    }

    /// Owned: allocated in `init`, freed in `deinit`; nothing outside this class keeps a
    /// pointer into it past the call that received it.
    private let arena: UnsafeMutableRawPointer
    private let segments: [Segment]
    private let templates: [Compiled]
    private let cumulativeWeights: [Int]
    private let totalWeight: Int
    /// Key `i` is `keyOffsets[i]..<keyOffsets[i + 1]` in the arena.
    private let keyOffsets: [Int]
    let keyCount: Int
    /// The longest request any template renders, in bytes.
    let maxRequestLength: Int
    /// The `--request` flags, for messages.
    let sources: [String]

    /// Where the checked value is in the arena (see ``checkedValue``).
    private let checkedValueSegment: Segment?

    init(templates source: [RequestTemplate], keyCount: Int, keyPrefix: String, checkedValue: String? = nil) {
        precondition(!source.isEmpty && keyCount > 0)
        var bytes: [UInt8] = []
        var segments: [Segment] = []
        func addSegment(_ piece: [UInt8]) {
            segments.append(Segment(offset: bytes.count, length: piece.count))
            bytes += piece
        }
        var keyOffsets: [Int] = []
        keyOffsets.reserveCapacity(keyCount + 1)
        let prefix = Array(keyPrefix.utf8)
        var longestKey = 0
        for index in 0..<keyCount {
            keyOffsets.append(bytes.count)
            let key = prefix + Array(String(index).utf8)
            longestKey = max(longestKey, key.count)
            bytes += key
        }
        keyOffsets.append(bytes.count)

        var valueSegment: Segment?
        if let checkedValue {
            addSegment(Array(checkedValue.utf8))
            valueSegment = segments.removeLast()
        }

        var compiled: [Compiled] = []
        var cumulative: [Int] = []
        var total = 0
        var longest = 0
        for template in source {
            let first = segments.count
            template.requestPieces.forEach(addSegment)
            let expectedBase = Int32(segments.count)
            template.expectedPieces.forEach(addSegment)
            let length = template.requestPieces.reduce(0) { $0 + $1.count }
                + (template.requestPieces.count - 1) * longestKey
            longest = max(longest, length)
            compiled.append(Compiled(firstSegment: first, segmentCount: template.requestPieces.count,
                                     maxLength: length, usesKey: template.usesKey,
                                     expected: template.expected.relocated(by: expectedBase)))
            total += template.weight
            cumulative.append(total)
        }

        let arena = UnsafeMutableRawPointer.allocate(byteCount: max(bytes.count, 1), alignment: 16)
        bytes.withUnsafeBytes { if $0.count > 0 { arena.copyMemory(from: $0.baseAddress!, byteCount: $0.count) } }
        self.arena = arena
        self.segments = segments
        self.templates = compiled
        self.cumulativeWeights = cumulative
        self.totalWeight = total
        self.keyOffsets = keyOffsets
        self.keyCount = keyCount
        self.maxRequestLength = longest
        self.sources = source.map(\.source)
        self.checkedValueSegment = valueSegment
    }

    deinit {
        arena.deallocate()
    }

    /// A template by weight, and a key for it (0 when it has no `%k`).
    @inline(__always)
    func pick(_ random: inout FastRandom, keys: inout KeyCursor) -> (template: Int, key: Int) {
        var template = 0
        if templates.count > 1 {
            let r = random.below(totalWeight)
            while cumulativeWeights[template] <= r { template += 1 }
        }
        let key = templates[template].usesKey ? keys.take(&random) : 0
        return (template, key)
    }

    /// Appends the request's bytes (terminator included) to `buffer`.
    @inline(__always)
    func render(template index: Int, key: Int, into buffer: inout ByteBuffer) {
        let template = templates[index]
        buffer.reserve(template.maxLength)
        let keyBytes = self.key(key)
        for s in 0..<template.segmentCount {
            if s > 0 { buffer.append(keyBytes) }
            buffer.append(segment(template.firstSegment + s))
        }
    }

    @inline(__always)
    func expected(_ template: Int) -> ExpectedReply {
        templates[template].expected
    }

    /// The key's bytes; valid as long as the mix lives.
    @inline(__always)
    func key(_ index: Int) -> Bytes {
        Bytes(UnsafeRawBufferPointer(start: arena + keyOffsets[index], count: keyOffsets[index + 1] - keyOffsets[index]))
    }

    /// The value a read must return when it finds its key; nil when values are not checked.
    var checkedValue: Bytes? {
        checkedValueSegment.map { Bytes(UnsafeRawBufferPointer(start: arena + $0.offset, count: $0.length)) }
    }

    /// Whether `value` is what reads must return (always, when values are not checked).
    @inline(__always)
    func isExpectedValue(_ value: Bytes) -> Bool {
        guard let expected = checkedValue else { return true }
        return value.equals(expected)
    }

    @inline(__always)
    private func segment(_ index: Int) -> Bytes {
        let s = segments[index]
        return Bytes(UnsafeRawBufferPointer(start: arena + s.offset, count: s.length))
    }

    /// Whether `text` is the range's pieces joined by `key`.
    @inline(__always)
    func matches(_ text: Bytes, _ range: SegmentRange, key: Bytes) -> Bool {
        var offset = 0
        for i in 0..<Int(range.count) {
            if i > 0 {
                guard offset + key.count <= text.count,
                      text[offset..<(offset + key.count)].equals(key)
                else { return false }
                offset += key.count
            }
            let piece = segment(Int(range.first) + i)
            guard offset + piece.count <= text.count,
                  text[offset..<(offset + piece.count)].equals(piece)
            else { return false }
            offset += piece.count
        }
        return offset == text.count
    }

    /// Whether `text` is one of the range's pieces.
    func matchesOneOf(_ text: Bytes, _ range: SegmentRange) -> Bool {
        for i in 0..<Int(range.count) where ReplyLine.equals(text, segment(Int(range.first) + i)) {
            return true
        }
        return false
    }

    func source(_ template: Int) -> String {
        sources[template]
    }
}
