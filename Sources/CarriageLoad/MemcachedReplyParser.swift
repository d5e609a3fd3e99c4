/// Replies of memcached's text protocol: `VERSION x`, `VALUE k f n` + data blocks then
/// `END`, `STORED`, numbers for incr/decr, `DELETED`/`NOT_FOUND`. Lines end with CRLF.
struct MemcachedReplyParser: ReplyParser {
    init() {}

    static func expectation(for text: String, expectsError: Bool) throws(LoadError) -> Expectation {
        // Storage commands carry a data block after the command line's CRLF.
        let parts = text.split(separator: "\r\n", maxSplits: 1, omittingEmptySubsequences: false)
        let commandLine = String(parts[0])
        let data = parts.count > 1 ? String(parts[1]) : nil
        if commandLine.contains("\n") || commandLine.contains("\r") || (data.map { $0.contains("\r") || $0.contains("\n") } ?? false) {
            throw .badOption("a memcached request is one line, plus one data block for storage commands (`set k 0 0 %n\\r\\n%v`)")
        }
        let tokens = commandLine.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        let verb = tokens[0]
        if tokens.last == "noreply" { throw .badOption("noreply requests get no reply to measure") }
        func need(_ ok: Bool, _ form: String) throws(LoadError) {
            if !ok { throw .badOption("expected the form `\(form)`") }
        }
        let storage = ["set", "add", "replace", "append", "prepend", "cas"]
        if !storage.contains(verb) {
            try need(data == nil, "\(verb) ... (no data block)")
        }
        // Meant to fail: any of memcached's error lines is right.
        if expectsError { return Expectation(.errorReply) }
        switch verb {
        case "version":
            try need(tokens.count == 1, "version")
            return Expectation(.memcachedVersion)
        case "get", "gets":
            try need(tokens.count >= 2, "\(verb) <key>...")
            return Expectation(.memcachedValues)
        case _ where storage.contains(verb):
            let form = verb == "cas" ? "cas <key> <flags> <exptime> <bytes> <cas>\\r\\n<data>"
                                     : "\(verb) <key> <flags> <exptime> <bytes>\\r\\n<data>"
            try need(tokens.count == (verb == "cas" ? 6 : 5), form)
            guard let data else { throw .badOption("\(verb) needs its data block: `\(form)`") }
            if data.contains(RequestTemplate.keyMarker) { throw .badOption("the data block cannot hold %k") }
            guard let declared = Int(tokens[4]), declared == data.utf8.count else {
                throw .badOption("the data block is \(data.utf8.count) bytes but the command says \(tokens[4]) (use %n with %v)")
            }
            switch verb {
            case "set": return .line("STORED")
            case "cas": return .oneOf(["STORED", "EXISTS", "NOT_FOUND"])
            default: return .oneOf(["STORED", "NOT_STORED"])
            }
        case "incr", "decr":
            try need(tokens.count == 3, "\(verb) <key> <value>")
            return Expectation(.memcachedCounter)
        case "delete":
            try need(tokens.count == 2, "delete <key>")
            return .oneOf(["DELETED", "NOT_FOUND"])
        case "touch":
            try need(tokens.count == 3, "touch <key> <exptime>")
            return .oneOf(["TOUCHED", "NOT_FOUND"])
        default:
            throw .badOption("unsupported memcached command '\(verb)' (use version, get, gets, set, add, replace, append, prepend, cas, incr, decr, delete, touch; start the line with ! if an error is what you mean to measure)")
        }
    }

    func parse(_ bytes: Bytes, expecting: ExpectedReply, mix: RequestMix,
               key: Bytes) -> ParsedReply? {
        guard let line = ReplyLine.find(in: bytes, from: 0) else { return nil }
        let text = line.text(in: bytes)
        let ok: Bool
        switch expecting {
        case .line, .oneOfLines, .errorReply:
            ok = matchesCommon(text, expecting, mix: mix, key: key)!
        case .memcachedVersion:
            ok = ReplyLine.hasPrefix(text, "VERSION ")
        case .memcachedCounter:
            ok = ReplyLine.isInteger(text, allowSign: false) || ReplyLine.equals(text, "NOT_FOUND")
        case .memcachedValues:
            var current = line
            var allExpected = true
            while true {
                let body = current.text(in: bytes)
                if ReplyLine.equals(body, "END") {
                    return ParsedReply(length: current.next, outcome: allExpected ? .ok : .wrong)
                }
                guard ReplyLine.hasPrefix(body, "VALUE "), let size = Self.valueSize(body) else {
                    return ParsedReply(length: current.next, outcome: Self.failure(body))
                }
                let dataEnd = current.next + size
                guard dataEnd + 2 <= bytes.count else { return nil }
                guard bytes[dataEnd] == 13, bytes[dataEnd + 1] == 10 else {
                    return ParsedReply(length: dataEnd, outcome: .wrong)
                }
                // A value other than the one written is wrong; the reply is still read whole.
                if !mix.isExpectedValue(bytes[current.next..<dataEnd]) { allExpected = false }
                guard let next = ReplyLine.find(in: bytes, from: dataEnd + 2) else { return nil }
                current = next
            }
        default:
            ok = false
        }
        return ParsedReply(length: line.next, outcome: ok ? .ok : Self.failure(text))
    }

    /// The `<bytes>` field of `VALUE <key> <flags> <bytes> [<cas>]`.
    private static func valueSize(_ text: Bytes) -> Int? {
        var field = 0
        var fieldStart = 0
        for i in 0...text.count {
            if i == text.count || text[i] == 32 {
                if field == 3 { return ReplyLine.decimal(text, from: fieldStart, to: i) }
                field += 1
                fieldStart = i + 1
            }
        }
        return nil
    }

    /// `ERROR`, `CLIENT_ERROR <reason>` or `SERVER_ERROR <reason>`.
    static func isError(_ text: Bytes) -> Bool {
        ReplyLine.equals(text, "ERROR") || ReplyLine.hasPrefix(text, "CLIENT_ERROR") || ReplyLine.hasPrefix(text, "SERVER_ERROR")
    }

    /// memcached refuses a connection over `-c` with an error that says so, then closes it.
    private static func failure(_ text: Bytes) -> ReplyOutcome {
        if ReplyLine.isBusy(text) { return .busy }
        return isError(text) ? .error : .wrong
    }
}
