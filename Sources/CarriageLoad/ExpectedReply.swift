/// A run of literal byte pieces in a `RequestMix` arena, by segment index.
struct SegmentRange: Sendable, Equatable {
    var first: Int32
    var count: Int32
}

/// What a correct reply to one request template looks like. Plain data (no references), so
/// reading it on the hot path costs no reference counting. Literal text lives in the mix's
/// arena: a `SegmentRange` lists its pieces, and where a range has several pieces, the
/// request's key goes between each two (as `%k` did in the request).
enum ExpectedReply: Sendable, Equatable {
    // Any protocol, one line.
    /// Exactly this line (pieces joined by the request's key).
    case line(SegmentRange)
    /// Exactly one of these lines (each piece a whole line).
    case oneOfLines(SegmentRange)
    /// Any error reply of the protocol (a request marked `!`, meant to fail).
    case errorReply

    // Carriage (the line protocol; README.md, "The protocol").
    /// `OK` or `OK <anything>` (THREAD, CAP of a keyed text).
    case carriageOK
    /// `OK <value>` or `NONE` (GET).
    case carriageValueOrNone
    /// `OK <signed 64-bit decimal>` (INCR, DECR).
    case carriageInteger
    /// `OK <signed decimal>` or `NONE` (TTL).
    case carriageIntegerOrNone
    /// `STAT <name> <value>` lines, then `END` (STATS).
    case carriageStats

    // memcached text protocol.
    /// `VERSION <text>`.
    case memcachedVersion
    /// Zero or more `VALUE <key> <flags> <bytes>` blocks, then `END` (get, gets).
    case memcachedValues
    /// A decimal number or `NOT_FOUND` (incr, decr).
    case memcachedCounter

    // Redis (RESP replies to inline commands).
    /// A bulk string `$n` equal to these pieces joined by the key (ECHO).
    case redisBulk(SegmentRange)
    /// A bulk string or the nil bulk `$-1` (GET).
    case redisBulkOrNil
    /// An integer `:n` (INCR, DEL, ...).
    case redisInteger
    /// Any single reply that is not an error.
    case redisAny

    /// The same expectation with its segment indexes moved by `offset` (when a template's
    /// pieces are copied into a mix's arena).
    func relocated(by offset: Int32) -> ExpectedReply {
        switch self {
        case .line(let range): return .line(SegmentRange(first: range.first + offset, count: range.count))
        case .oneOfLines(let range): return .oneOfLines(SegmentRange(first: range.first + offset, count: range.count))
        case .redisBulk(let range): return .redisBulk(SegmentRange(first: range.first + offset, count: range.count))
        default: return self
        }
    }
}
