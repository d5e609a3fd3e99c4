import ArgumentParser

/// The protocol the load tool speaks: Carriage's own line protocol, or memcached's text
/// protocol and Redis's inline commands, so one tool measures all three servers alike.
enum WireProtocol: String, CaseIterable, Sendable, ExpressibleByArgument {
    case carriage
    case memcached
    case redis

    /// Appended to every request line.
    var lineTerminator: String {
        switch self {
        case .carriage: return "\n"
        case .memcached, .redis: return "\r\n"
        }
    }

    /// The request when no `--request` is given: the cheapest round trip of each protocol.
    var defaultRequest: String {
        switch self {
        case .carriage: return "PING"
        case .memcached: return "version"
        case .redis: return "PING"
        }
    }

    var parserType: any ReplyParser.Type {
        switch self {
        case .carriage: return CarriageReplyParser.self
        case .memcached: return MemcachedReplyParser.self
        case .redis: return RedisReplyParser.self
        }
    }
}
