/// Replies of Carriage's line protocol (README.md, "The protocol"): one line per request
/// (`OK ...`, `NONE`, `ERR ...`, `BUSY ...`), except `STATS` (`STAT` lines, then `END`).
struct CarriageReplyParser: ReplyParser {
    init() {}

    static func expectation(for text: String) throws(LoadError) -> Expectation {
        if text.contains("\n") || text.contains("\r") {
            throw .badOption("a Carriage request is one line (no \\r or \\n)")
        }
        let verb: String
        let rest: String?
        if let space = text.firstIndex(of: " ") {
            verb = String(text[..<space])
            rest = String(text[text.index(after: space)...])
        } else {
            verb = text
            rest = nil
        }
        let args = rest.map { $0.split(separator: " ", omittingEmptySubsequences: false) } ?? []
        func need(_ ok: Bool, _ form: String) throws(LoadError) {
            if !ok { throw .badOption("expected the form `\(form)`") }
        }
        if verb.contains(RequestTemplate.keyMarker) { throw .badOption("%k cannot be the verb") }
        switch verb.uppercased() {
        case "PING":
            try need(rest == nil, "PING")
            return .line("OK PONG")
        case "ECHO":
            guard let rest, !rest.isEmpty else { return .oneOf(["OK", "OK "]) }
            return .line("OK " + rest)
        case "CAP":
            guard let rest, !rest.isEmpty else { return .oneOf(["OK", "OK "]) }
            // A keyed text changes per request; its capitalization is not pre-computed,
            // so only the status word is checked.
            if rest.contains(RequestTemplate.keyMarker) { return Expectation(.carriageOK) }
            return .line("OK " + capitalized(rest))
        case "SLEEP":
            try need(args.count == 1 && (rest.flatMap { Int($0) }.map { (0...60_000).contains($0) } ?? false), "SLEEP <ms 0-60000>")
            return .line("OK")
        case "SET":
            try need(args.count >= 2 && !args[0].isEmpty, "SET <key> <value>")
            return .line("OK")
        case "GET":
            try need(args.count == 1 && !args[0].isEmpty, "GET <key>")
            return Expectation(.carriageValueOrNone)
        case "DEL":
            try need(args.count == 1 && !args[0].isEmpty, "DEL <key>")
            return .oneOf(["OK 0", "OK 1"])
        case "INCR", "DECR":
            try need((args.count == 1 || args.count == 2) && !args[0].isEmpty, "\(verb.uppercased()) <key> [<delta>]")
            return Expectation(.carriageInteger)
        case "THREAD":
            try need(rest == nil, "THREAD")
            return Expectation(.carriageOK)
        case "STATS":
            try need(rest == nil, "STATS")
            return Expectation(.carriageStats)
        case "QUIT":
            throw .badOption("QUIT closes the connection; it cannot be part of a request mix")
        default:
            return .line("ERR unknown command")
        }
    }

    /// Python's `str.capitalize`, as PROTOCOL.md asks of `CAP`: the first character in
    /// title case, every other one in lower case (Unicode-aware).
    static func capitalized(_ text: String) -> String {
        var out = ""
        for (index, scalar) in text.unicodeScalars.enumerated() {
            out += index == 0 ? scalar.properties.titlecaseMapping : scalar.properties.lowercaseMapping
        }
        return out
    }

    @inline(__always)
    private static func isOK(_ text: UnsafeRawBufferPointer) -> Bool {
        ReplyLine.equals(text, "OK") || ReplyLine.hasPrefix(text, "OK ")
    }

    func parse(_ bytes: UnsafeRawBufferPointer, expecting: ExpectedReply, mix: RequestMix,
               key: UnsafeRawBufferPointer) -> ParsedReply? {
        guard let line = ReplyLine.find(in: bytes, from: 0) else { return nil }
        let text = line.text(in: bytes)
        let ok: Bool
        switch expecting {
        case .line(let range):
            ok = mix.matches(text, range, key: key)
        case .oneOfLines(let range):
            ok = mix.matchesOneOf(text, range)
        case .carriageOK:
            ok = Self.isOK(text)
        case .carriageValueOrNone:
            ok = Self.isOK(text) || ReplyLine.equals(text, "NONE")
        case .carriageInteger:
            ok = ReplyLine.hasPrefix(text, "OK ")
                && ReplyLine.isInteger(UnsafeRawBufferPointer(rebasing: text[3...]))
        case .carriageStats:
            var current = line
            while true {
                let body = current.text(in: bytes)
                if ReplyLine.equals(body, "END") { return ParsedReply(length: current.next, outcome: .ok) }
                if !ReplyLine.hasPrefix(body, "STAT ") {
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

    @inline(__always)
    private static func failure(_ text: UnsafeRawBufferPointer) -> ReplyOutcome {
        ReplyLine.hasPrefix(text, "BUSY") ? .busy : .wrong
    }
}
