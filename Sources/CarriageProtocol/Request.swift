import CarriageStore

/// One parsed request line: the verb and where its arguments are in the line.
///
/// Arguments are ranges of indices of the parsed line, not copies or slices: parsing allocates
/// nothing and retains nothing, and a request is a few plain integers.
///
/// The grammar: the verb is the text before the first space (case-insensitive); after it, each
/// request takes a fixed number of fields separated by one space, and its last field is the
/// rest of the line, spaces included. So `GET a b` asks for the key `a b` (which is invalid:
/// keys have no space), `SET k v w` stores `v w`, `INCR k 1 2` has the delta `1 2` (not an
/// integer). A request that takes no argument must end right after its verb: `PING ` (with a
/// space) is a usage error.
package enum Request: Equatable, Sendable {
    case ping
    case echo(text: Range<Int>)
    case cap(text: Range<Int>)
    case sleep(milliseconds: Int)
    case set(key: Range<Int>, value: Range<Int>)
    case get(key: Range<Int>)
    case del(key: Range<Int>)
    case incr(key: Range<Int>, delta: Int64)
    case decr(key: Range<Int>, delta: Int64)
    case expire(key: Range<Int>, seconds: Int64)
    case ttl(key: Range<Int>)
    case thread
    case stats
    case quit
    /// `AUTH <user> <password>`: the password is the rest of the line.
    case auth(user: Range<Int>, password: Range<Int>)

    /// The longest `SLEEP`, in milliseconds.
    package static let maxSleepMilliseconds = 60_000

    /// A constant, not a stored static: a stored one is a lazy global, checked on every
    /// byte a scan looks at in an unoptimised build.
    private static var space: UInt8 { UInt8(ascii: " ") }

    /// Parses one request line (without its line ending). The ranges in the result are indices
    /// of `line`.
    ///
    /// Errors are checked in this order: UTF-8 (the whole line), verb, shape of the
    /// arguments, key, then delta or milliseconds.
    package init(parsing line: ArraySlice<UInt8>) throws(CommandError) {
        self = try line.withUnsafeBufferPointer { (buffer) throws(CommandError) -> Request in
            let request = try Request(parsing: buffer)
            return request.offset(by: line.startIndex)
        }
    }

    /// Parses one request line held in `line`; the ranges in the result are offsets in it.
    private init(parsing line: UnsafeBufferPointer<UInt8>) throws(CommandError) {
        guard UTF8Validation.isValid(line) else { throw .invalidUTF8 }
        let verbEnd = Self.firstSpace(in: line, from: 0)
        guard let verb = Verb(UnsafeBufferPointer(rebasing: line[..<(verbEnd ?? line.count)])) else {
            throw .unknownCommand
        }
        // `nil` when nothing, not even a space, follows the verb.
        let arguments = verbEnd.map { ($0 + 1)..<line.count }

        switch verb {
        case .ping, .thread, .stats, .quit:
            guard arguments == nil else { throw .usage(verb) }
            switch verb {
            case .ping: self = .ping
            case .thread: self = .thread
            case .stats: self = .stats
            default: self = .quit
            }
        case .echo:
            self = .echo(text: arguments ?? line.count..<line.count)
        case .cap:
            self = .cap(text: arguments ?? line.count..<line.count)
        case .sleep:
            guard let arguments,
                let milliseconds = DecimalInteger.parse(UnsafeBufferPointer(rebasing: line[arguments])),
                milliseconds >= 0, milliseconds <= Int64(Self.maxSleepMilliseconds)
            else { throw .usage(.sleep) }
            self = .sleep(milliseconds: Int(milliseconds))
        case .set:
            guard let arguments, let keyEnd = Self.firstSpace(in: line, from: arguments.lowerBound) else {
                throw .usage(.set)
            }
            let key = arguments.lowerBound..<keyEnd
            guard KeyValidation.isValid(UnsafeBufferPointer(rebasing: line[key])) else { throw .invalidKey }
            self = .set(key: key, value: (keyEnd + 1)..<line.count)
        case .get, .del, .ttl:
            guard let key = arguments else { throw .usage(verb) }
            guard KeyValidation.isValid(UnsafeBufferPointer(rebasing: line[key])) else { throw .invalidKey }
            switch verb {
            case .get: self = .get(key: key)
            case .del: self = .del(key: key)
            default: self = .ttl(key: key)
            }
        case .expire:
            guard let arguments, let keyEnd = Self.firstSpace(in: line, from: arguments.lowerBound) else {
                throw .usage(.expire)
            }
            let key = arguments.lowerBound..<keyEnd
            guard KeyValidation.isValid(UnsafeBufferPointer(rebasing: line[key])) else { throw .invalidKey }
            guard let seconds = DecimalInteger.parse(UnsafeBufferPointer(rebasing: line[(keyEnd + 1)...])) else {
                throw .usage(.expire)
            }
            self = .expire(key: key, seconds: seconds)
        case .auth:
            guard let arguments, let userEnd = Self.firstSpace(in: line, from: arguments.lowerBound),
                  userEnd > arguments.lowerBound, userEnd + 1 < line.count
            else { throw .usage(.auth) }
            self = .auth(user: arguments.lowerBound..<userEnd, password: (userEnd + 1)..<line.count)
        case .incr, .decr:
            guard let arguments else { throw .usage(verb) }
            let keyEnd = Self.firstSpace(in: line, from: arguments.lowerBound)
            let key = arguments.lowerBound..<(keyEnd ?? line.count)
            guard KeyValidation.isValid(UnsafeBufferPointer(rebasing: line[key])) else { throw .invalidKey }
            var delta: Int64 = 1
            if let keyEnd {
                let text = UnsafeBufferPointer(rebasing: line[(keyEnd + 1)...])
                guard let parsed = DecimalInteger.parse(text) else { throw .deltaNotInteger }
                delta = parsed
            }
            self = verb == .incr ? .incr(key: key, delta: delta) : .decr(key: key, delta: delta)
        }
    }

    private static func firstSpace(in line: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        var index = start
        while index < line.count {
            if line[index] == space { return index }
            index += 1
        }
        return nil
    }

    /// The same request with every range moved by `offset`.
    private func offset(by offset: Int) -> Request {
        func moved(_ range: Range<Int>) -> Range<Int> {
            (range.lowerBound + offset)..<(range.upperBound + offset)
        }
        switch self {
        case .echo(let text): return .echo(text: moved(text))
        case .cap(let text): return .cap(text: moved(text))
        case .set(let key, let value): return .set(key: moved(key), value: moved(value))
        case .get(let key): return .get(key: moved(key))
        case .del(let key): return .del(key: moved(key))
        case .incr(let key, let delta): return .incr(key: moved(key), delta: delta)
        case .decr(let key, let delta): return .decr(key: moved(key), delta: delta)
        case .expire(let key, let seconds): return .expire(key: moved(key), seconds: seconds)
        case .ttl(let key): return .ttl(key: moved(key))
        case .auth(let user, let password): return .auth(user: moved(user), password: moved(password))
        case .ping, .sleep, .thread, .stats, .quit: return self
        }
    }
}
