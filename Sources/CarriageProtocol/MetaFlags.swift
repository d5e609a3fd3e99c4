/// The flags of a meta command (`mg`, `ms`, `md`, `ma`): single characters, some followed
/// by a token (`T30`, `Oabc`), parsed once; the tokens are kept to echo the return flags in
/// the order the client sent them.
struct MetaFlags {
    /// The flag tokens as sent.
    let tokens: MemcachedTokens
    var value = false
    var quiet = false
    var invalidate = false
    var opaque: ArraySlice<UInt8> = []
    var ttl: Int64?
    var clientFlags: UInt32?
    var vivify: Int64?
    var compareCAS: UInt64?
    var mode: UInt8?
    var delta: UInt64?
    var initial: UInt64?

    enum Failure: Error {
        case invalidFlag, badToken, opaqueTooLong
    }

    /// Parses `tokens`, taking only the flag characters in `allowed`.
    init(_ tokens: MemcachedTokens, allowed: StaticString) throws(Failure) {
        self.tokens = tokens
        var reader = tokens
        while let token = reader.next() {
            let flag = token[token.startIndex]
            let argument = token.dropFirst()
            guard allowed.withUTF8Buffer({ $0.contains(flag) }) else { throw .invalidFlag }
            switch flag {
            case UInt8(ascii: "v"): value = true
            case UInt8(ascii: "q"): quiet = true
            case UInt8(ascii: "I"): invalidate = true
            case UInt8(ascii: "O"):
                guard argument.count <= 32 else { throw .opaqueTooLong }
                opaque = token
            case UInt8(ascii: "T"): ttl = try Self.signed(argument)
            case UInt8(ascii: "N"): vivify = try Self.signed(argument)
            case UInt8(ascii: "F"):
                let value = try Self.unsigned(argument)
                guard value <= UInt64(UInt32.max) else { throw .badToken }
                clientFlags = UInt32(value)
            case UInt8(ascii: "C"): compareCAS = try Self.unsigned(argument)
            case UInt8(ascii: "D"): delta = try Self.unsigned(argument)
            case UInt8(ascii: "J"): initial = try Self.unsigned(argument)
            case UInt8(ascii: "M"):
                guard argument.count == 1 else { throw .badToken }
                mode = argument[argument.startIndex]
            default: break  // return flags (c f k s t) and u: nothing to parse
            }
        }
    }

    private static func signed(_ token: ArraySlice<UInt8>) throws(Failure) -> Int64 {
        guard let value = token.signedValue else { throw .badToken }
        return value
    }

    private static func unsigned(_ token: ArraySlice<UInt8>) throws(Failure) -> UInt64 {
        guard let value = token.unsignedValue else { throw .badToken }
        return value
    }
}
