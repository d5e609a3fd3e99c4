import CarriageStore

/// Why a request was refused, with the exact reply the line protocol gives for it.
package enum CommandError: Error, Equatable, Sendable {
    case unknownCommand
    case usage(Verb)
    case invalidKey
    case valueNotInteger
    case deltaNotInteger
    case overflow
    case outOfMemory
    case invalidUTF8
    /// `GET` of a value with a CR or LF in it (stored over memcached's protocol).
    case valueHasLineBreak

    init(_ error: StoreError) {
        switch error {
        case .outOfMemory: self = .outOfMemory
        case .valueNotInteger: self = .valueNotInteger
        case .overflow: self = .overflow
        // The protocol's own keys are at most 250 bytes; the store takes 255.
        case .keyTooLong: self = .invalidKey
        }
    }

    /// Appends the reply line, `ERR <reason>\n`, to `output`.
    package func appendReply(to output: inout [UInt8]) {
        switch self {
        case .unknownCommand: output.append(static: "ERR unknown command\n")
        case .usage(let verb):
            output.append(static: "ERR usage: ")
            output.append(static: verb.usage)
            output.append(static: "\n")
        case .invalidKey: output.append(static: "ERR invalid key\n")
        case .valueNotInteger: output.append(static: "ERR value is not an integer\n")
        case .deltaNotInteger: output.append(static: "ERR delta is not an integer\n")
        case .overflow: output.append(static: "ERR overflow\n")
        case .outOfMemory: output.append(static: "ERR out of memory\n")
        case .invalidUTF8: output.append(static: "ERR invalid utf-8\n")
        case .valueHasLineBreak: output.append(static: "ERR value has a line break (read it over the memcached protocol)\n")
        }
    }
}
