/// One `--request` flag, checked and split into wire bytes, ready for a `RequestMix`.
///
/// Syntax: `[WEIGHT:][!]LINE`. `WEIGHT` is a positive integer (default 1): a template is
/// picked with probability weight / total weight. `!` marks a request meant to fail: its
/// right reply is the protocol's error (without it, an error reply counts as an error,
/// and a request the protocol refuses outright is refused at start). In `LINE`:
/// - `%k` is a key drawn at random from the key range for each request (the same key for
///   every `%k` of that request);
/// - `%v` is the value (`--value-size` bytes), `%n` its length in decimal, `%%` a `%`;
/// - `\r`, `\n`, `\t` and `\\` are escapes (memcached's storage commands need `\r\n`
///   before their data block).
/// The protocol's line terminator is appended (`\n` for Carriage, `\r\n` otherwise).
struct RequestTemplate: Sendable {
    /// Stands for the key in the expanded text; no command-line argument can hold a NUL.
    static let keyMarker: Character = "\u{0}"

    /// The flag as given, for messages.
    let source: String
    let weight: Int
    /// Marked `!`: meant to fail.
    let expectsError: Bool
    /// The request's wire bytes, split where the key goes.
    let requestPieces: [[UInt8]]
    /// The correct reply; its segment ranges index `expectedPieces`.
    let expected: ExpectedReply
    let expectedPieces: [[UInt8]]

    var usesKey: Bool { requestPieces.count > 1 }

    init(parsing spec: String, wire: WireProtocol, value: String) throws(LoadError) {
        var body = Substring(spec)
        var weight = 1
        if let colon = body.firstIndex(of: ":"), colon > body.startIndex,
           body[..<colon].allSatisfy({ $0.isASCII && $0.isNumber }) {
            guard let parsed = Int(body[..<colon]), parsed > 0, parsed <= 1_000_000 else {
                throw .badOption("--request '\(spec)': the weight must be 1 to 1000000")
            }
            weight = parsed
            body = body[body.index(after: colon)...]
        }
        let expectsError = body.first == "!"
        if expectsError { body = body.dropFirst() }
        let text = try Self.expand(body, spec: spec, value: value)
        guard !text.isEmpty, text.first != " " else {
            throw .badOption("--request '\(spec)': the request line is empty or starts with a space")
        }
        let shape: Expectation
        do {
            shape = try wire.parserType.expectation(for: text, expectsError: expectsError)
        } catch {
            throw .badOption("--request '\(spec)': \(error.description)")
        }
        self.source = spec
        self.weight = weight
        self.expectsError = expectsError
        self.requestPieces = (text + wire.lineTerminator)
            .split(separator: Self.keyMarker, omittingEmptySubsequences: false)
            .map { Array($0.utf8) }
        self.expected = shape.reply
        self.expectedPieces = shape.pieces.map { Array($0.utf8) }
    }

    /// Applies escapes and placeholders; `%k` becomes `keyMarker`.
    private static func expand(_ body: Substring, spec: String, value: String) throws(LoadError) -> String {
        var out = ""
        var iterator = body.makeIterator()
        while let c = iterator.next() {
            switch c {
            case "\\":
                switch iterator.next() {
                case "r": out.append("\r")
                case "n": out.append("\n")
                case "t": out.append("\t")
                case "\\": out.append("\\")
                case let other?:
                    throw .badOption("--request '\(spec)': unknown escape '\\\(other)' (use \\r, \\n, \\t or \\\\)")
                case nil:
                    throw .badOption("--request '\(spec)': a lone '\\' at the end")
                }
            case "%":
                switch iterator.next() {
                case "k": out.append(keyMarker)
                case "v": out.append(value)
                case "n": out.append(String(value.utf8.count))
                case "%": out.append("%")
                case let other?: out.append("%"); out.append(other)
                case nil: out.append("%")
                }
            default:
                out.append(c)
            }
        }
        return out
    }
}
