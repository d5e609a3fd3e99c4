/// How one reply turned out.
enum ReplyOutcome: Sendable {
    /// What the protocol says this request gets.
    case ok
    /// A complete reply, but not the right one (wrong status word or payload).
    case wrong
    /// The server refused the request (`ERR ...`, memcached's `ERROR`/`CLIENT_ERROR`/
    /// `SERVER_ERROR`, a Redis `-ERR`) where it was not meant to fail.
    case error
    /// The server refused the connection (Carriage `BUSY`, memcached or Redis "too many
    /// connections"); it closes the connection next.
    case busy
}

/// One complete reply found at the front of a buffer.
struct ParsedReply {
    /// Bytes the reply took, terminators included.
    let length: Int
    let outcome: ReplyOutcome
}

/// One wire protocol's knowledge of replies: what each request gets (at start-up) and
/// whether the bytes at the front of a connection's input are that reply (per reply, on the
/// hot path: no allocation, no Foundation, just scans of the buffer).
protocol ReplyParser {
    init()

    /// The reply that the request `text` (expanded, `RequestTemplate.keyMarker` for the
    /// key, no terminator) must get; throws `.badOption` with a short reason for requests
    /// the tool cannot drive (unknown to the protocol, wrong shape, no reply, closes the
    /// connection). `expectsError`: the user marked the request as meant to fail (`!`),
    /// so its right reply is the protocol's error.
    static func expectation(for text: String, expectsError: Bool) throws(LoadError) -> Expectation

    /// The reply at the front of `bytes`, or nil while it is incomplete. `key` is the key
    /// the request was rendered with (empty when it had none).
    func parse(_ bytes: Bytes, expecting: ExpectedReply, mix: RequestMix,
               key: Bytes) -> ParsedReply?

    /// Whether the reply line `text` is one of the protocol's error replies.
    static func isError(_ text: Bytes) -> Bool
}

extension ReplyParser {
    /// Whether the line `text` is right for the expectations every line protocol shares
    /// (an exact line, one of several, an error); nil for a protocol's own kinds.
    @inline(__always)
    func matchesCommon(_ text: Bytes, _ expecting: ExpectedReply, mix: RequestMix,
                       key: Bytes) -> Bool? {
        switch expecting {
        case .line(let range): return mix.matches(text, range, key: key)
        case .oneOfLines(let range): return mix.matchesOneOf(text, range)
        case .errorReply: return Self.isError(text)
        default: return nil
        }
    }
}
