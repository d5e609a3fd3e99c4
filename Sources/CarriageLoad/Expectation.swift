/// A request's expected reply as a protocol parser describes it: the `ExpectedReply` and the
/// literal text pieces its segment ranges point at (`RequestTemplate.keyMarker` splits a
/// text where the request's key goes).
struct Expectation {
    let reply: ExpectedReply
    let pieces: [String]

    /// A reply with no literal text.
    init(_ reply: ExpectedReply) {
        self.reply = reply
        self.pieces = []
    }

    /// Exactly this line, the key (if any) filled in where the request had it.
    static func line(_ text: String) -> Expectation {
        let pieces = split(text)
        return Expectation(reply: .line(SegmentRange(first: 0, count: Int32(pieces.count))), pieces: pieces)
    }

    /// One of these lines (no key).
    static func oneOf(_ lines: [String]) -> Expectation {
        Expectation(reply: .oneOfLines(SegmentRange(first: 0, count: Int32(lines.count))), pieces: lines)
    }

    /// A Redis bulk string with this text, the key filled in.
    static func redisBulk(_ text: String) -> Expectation {
        let pieces = split(text)
        return Expectation(reply: .redisBulk(SegmentRange(first: 0, count: Int32(pieces.count))), pieces: pieces)
    }

    private init(reply: ExpectedReply, pieces: [String]) {
        self.reply = reply
        self.pieces = pieces
    }

    private static func split(_ text: String) -> [String] {
        text.split(separator: RequestTemplate.keyMarker, omittingEmptySubsequences: false).map(String.init)
    }
}
