/// RESP replies to Redis inline commands: `+OK`, `-ERR ...`, `:n`, `$n` + data (`$-1` for
/// nil), `*n` arrays.
struct RedisReplyParser: ReplyParser {
    init() {}

    static func expectation(for text: String, expectsError: Bool) throws(LoadError) -> Expectation {
        if text.contains("\n") || text.contains("\r") {
            throw .badOption("a Redis inline command is one line (no \\r or \\n)")
        }
        let tokens = text.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        func need(_ ok: Bool, _ form: String) throws(LoadError) {
            if !ok { throw .badOption("expected the form `\(form)`") }
        }
        if expectsError { return Expectation(.errorReply) }
        switch tokens[0].uppercased() {
        case "PING":
            try need(tokens.count <= 2, "PING [<message>]")
            return tokens.count == 1 ? .line("+PONG") : .redisBulk(tokens[1])
        case "ECHO":
            try need(tokens.count == 2, "ECHO <message>")
            return .redisBulk(tokens[1])
        case "SET":
            try need(tokens.count >= 3, "SET <key> <value>")
            return tokens.count == 3 ? .line("+OK") : Expectation(.redisAny)
        case "GET":
            try need(tokens.count == 2, "GET <key>")
            return Expectation(.redisBulkOrNil)
        case "INCR", "DECR", "DEL", "EXISTS", "UNLINK":
            try need(tokens.count >= 2, "\(tokens[0].uppercased()) <key>")
            return Expectation(.redisInteger)
        case "INCRBY", "DECRBY":
            try need(tokens.count == 3, "\(tokens[0].uppercased()) <key> <delta>")
            return Expectation(.redisInteger)
        case "QUIT", "SUBSCRIBE", "PSUBSCRIBE", "MONITOR", "SHUTDOWN":
            throw .badOption("\(tokens[0]) does not fit a closed-loop request mix")
        default:
            return Expectation(.redisAny)
        }
    }

    /// Where the RESP value starting at `offset` ends: nil while incomplete, -1 when it is
    /// malformed.
    private static func valueEnd(_ bytes: Bytes, from offset: Int, depth: Int = 0) -> Int? {
        guard let line = ReplyLine.find(in: bytes, from: offset) else { return nil }
        guard line.end > line.start else { return -1 }
        let text = line.text(in: bytes)
        switch text[0] {
        case UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: ":"):
            return line.next
        case UInt8(ascii: "$"):
            if ReplyLine.equals(text, "$-1") { return line.next }
            guard let size = ReplyLine.decimal(text, from: 1, to: text.count) else { return -1 }
            let end = line.next + size + 2
            guard end <= bytes.count else { return nil }
            return bytes[end - 2] == 13 && bytes[end - 1] == 10 ? end : -1
        case UInt8(ascii: "*"):
            if ReplyLine.equals(text, "*-1") { return line.next }
            guard depth < 8, let count = ReplyLine.decimal(text, from: 1, to: text.count) else { return -1 }
            var cursor = line.next
            for _ in 0..<count {
                guard let end = valueEnd(bytes, from: cursor, depth: depth + 1) else { return nil }
                if end < 0 { return -1 }
                cursor = end
            }
            return cursor
        default:
            return -1
        }
    }

    /// A RESP error: `-ERR ...`, `-WRONGTYPE ...`.
    static func isError(_ text: Bytes) -> Bool {
        text.first == UInt8(ascii: "-")
    }

    func parse(_ bytes: Bytes, expecting: ExpectedReply, mix: RequestMix,
               key: Bytes) -> ParsedReply? {
        guard let line = ReplyLine.find(in: bytes, from: 0) else { return nil }
        let text = line.text(in: bytes)
        guard let end = Self.valueEnd(bytes, from: 0) else { return nil }
        if end < 0 { return ParsedReply(length: line.next, outcome: .wrong) }
        let type = text.count > 0 ? text[0] : 0
        if Self.isError(text) {
            if case .errorReply = expecting { return ParsedReply(length: end, outcome: .ok) }
            return ParsedReply(length: end, outcome: ReplyLine.isBusy(text) ? .busy : .error)
        }
        let ok: Bool
        switch expecting {
        case .line, .oneOfLines, .errorReply:
            ok = matchesCommon(text, expecting, mix: mix, key: key)!
        case .redisInteger:
            ok = type == UInt8(ascii: ":") && ReplyLine.isInteger(text.suffix(from: 1))
        case .redisBulkOrNil:
            ok = type == UInt8(ascii: "$")
                && (ReplyLine.equals(text, "$-1") || mix.isExpectedValue(bytes[line.next..<(end - 2)]))
        case .redisBulk(let range):
            ok = type == UInt8(ascii: "$") && !ReplyLine.equals(text, "$-1")
                && mix.matches(bytes[line.next..<(end - 2)], range, key: key)
        case .redisAny:
            ok = true
        default:
            ok = false
        }
        return ParsedReply(length: end, outcome: ok ? .ok : .wrong)
    }
}
