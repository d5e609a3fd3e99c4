import CarriageProtocol

/// Replies of Carriage's line protocol (README.md, "The protocol"): one line per request
/// (`OK ...`, `NONE`, `ERR ...`, `BUSY ...`), except `STATS` (`STAT` lines, then `END`).
/// What a request must get is worked out with the server's own parser and, where the
/// reply depends on the request alone, the server's own code (``ReferenceServer``).
struct CarriageReplyParser: ReplyParser {
    init() {}

    static func expectation(for text: String, expectsError: Bool) throws(LoadError) -> Expectation {
        if text.contains("\n") || text.contains("\r") {
            throw .badOption("a Carriage request is one line (no \\r or \\n)")
        }
        // The key marker is one byte, as is the sample key put in its place, so the
        // parsed ranges index `text` too.
        let bytes = Array(text.utf8)
        let sample = bytes.map { $0 == 0 ? UInt8(ascii: "k") : $0 }
        let request: Request
        do {
            request = try Request(parsing: sample[...])
        } catch {
            var reply: [UInt8] = []
            error.appendReply(to: &reply)
            let line = String(decoding: reply.dropLast(), as: UTF8.self)
            if expectsError { return .line(line) }
            throw .badOption("the server refuses it with `\(line)` (start the line with ! if that error is what you mean to measure)")
        }
        if expectsError {
            // Valid, but may fail at run time (INCR of text, a full store): any ERR is right.
            return Expectation(.errorReply)
        }
        let usesKey = bytes.contains(0)
        switch request {
        case .quit:
            throw .badOption("QUIT closes the connection; it cannot be part of a request mix")
        case .auth:
            throw .badOption("AUTH logs a connection in once; it cannot be part of a request mix")
        case .ping, .sleep, .set:
            // The reply depends on the request alone: ask the server's code.
            return .line(String(decoding: ReferenceServer.reply(to: sample).dropLast(), as: UTF8.self))
        case .echo,
             .cap where !usesKey:
            // ECHO gives the marker back where the key goes.
            return .line(String(decoding: ReferenceServer.reply(to: bytes).dropLast(), as: UTF8.self))
        case .cap, .thread:
            // A keyed text changes per request; its capitalization is not worked out in
            // advance, so only the status word is checked.
            return Expectation(.carriageOK)
        case .get:
            return Expectation(.carriageValueOrNone)
        case .del, .expire:
            return .oneOf(["\(Reply.ok) 0", "\(Reply.ok) 1"])
        case .incr, .decr:
            return Expectation(.carriageInteger)
        case .ttl:
            return Expectation(.carriageIntegerOrNone)
        case .stats:
            return Expectation(.carriageStats)
        }
    }

    /// `OK` alone or `OK <payload>`.
    @inline(__always)
    private static func isOK(_ text: Bytes) -> Bool {
        ReplyLine.hasPrefix(text, Reply.ok)
            && (text.count == Reply.ok.utf8CodeUnitCount || text[Reply.ok.utf8CodeUnitCount] == UInt8(ascii: " "))
    }

    func parse(_ bytes: Bytes, expecting: ExpectedReply, mix: RequestMix,
               key: Bytes) -> ParsedReply? {
        guard let line = ReplyLine.find(in: bytes, from: 0) else { return nil }
        let text = line.text(in: bytes)
        let ok: Bool
        switch expecting {
        case .line, .oneOfLines, .errorReply:
            ok = matchesCommon(text, expecting, mix: mix, key: key)!
        case .carriageOK:
            ok = Self.isOK(text)
        case .carriageValueOrNone:
            ok = ReplyLine.equals(text, Reply.none)
                || (ReplyLine.hasPrefix(text, "OK ") && mix.isExpectedValue(text.suffix(from: 3)))
                || (mix.checkedValue == nil && Self.isOK(text))
        case .carriageInteger:
            ok = Self.isInteger(text)
        case .carriageIntegerOrNone:
            ok = Self.isInteger(text) || ReplyLine.equals(text, Reply.none)
        case .carriageStats:
            var current = line
            while true {
                let body = current.text(in: bytes)
                if ReplyLine.equals(body, Reply.end) { return ParsedReply(length: current.next, outcome: .ok) }
                if !ReplyLine.hasPrefix(body, Reply.stat) {
                    return ParsedReply(length: current.next, outcome: Self.failure(body))
                }
                guard let next = ReplyLine.find(in: bytes, from: current.next) else { return nil }
                current = next
            }
        default:
            ok = false
        }
        return ParsedReply(length: line.next, outcome: ok ? .ok : Self.failure(text))
    }

    /// `OK <signed decimal>`.
    @inline(__always)
    private static func isInteger(_ text: Bytes) -> Bool {
        let payload = Reply.ok.utf8CodeUnitCount + 1
        return isOK(text) && text.count > payload
            && ReplyLine.isInteger(text.suffix(from: payload))
    }

    @inline(__always)
    static func isError(_ text: Bytes) -> Bool {
        ReplyLine.hasPrefix(text, Reply.error)
    }

    /// A reply that is not the one expected: a refused connection, a refused request,
    /// or simply the wrong reply.
    @inline(__always)
    private static func failure(_ text: Bytes) -> ReplyOutcome {
        if ReplyLine.hasPrefix(text, Reply.busy) { return .busy }
        return isError(text) ? .error : .wrong
    }
}
