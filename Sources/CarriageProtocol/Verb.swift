/// The verbs of protocol version 1.
package enum Verb: CaseIterable, Sendable {
    case ping, echo, cap, sleep, set, get, del, incr, decr, expire, ttl, thread, stats, quit, auth

    /// The verb spelled by `bytes`, compared case-insensitively, or `nil` for an unknown verb.
    ///
    /// No String is built: the bytes (at most 6), each OR-ed with 0x20, are packed into one
    /// integer, little-endian, and compared with the packed lower-case names. OR-ing 0x20 maps
    /// only `A`...`Z` and `a`...`z` onto lower-case letters, and every verb is letters only,
    /// so the comparison is exact; a shorter spelling leaves zero bytes, which no byte OR 0x20
    /// equals, so lengths cannot be confused.
    init?<Bytes: Collection<UInt8>>(_ bytes: Bytes) {
        guard bytes.count <= 6 else { return nil }
        var packed: UInt64 = 0
        var shift: UInt64 = 0
        for byte in bytes {
            packed |= UInt64(byte | 0x20) << shift
            shift += 8
        }
        switch packed {
        case 0x676e_6970: self = .ping
        case 0x6f68_6365: self = .echo
        case 0x70_6163: self = .cap
        case 0x70_6565_6c73: self = .sleep
        case 0x74_6573: self = .set
        case 0x74_6567: self = .get
        case 0x6c_6564: self = .del
        case 0x7263_6e69: self = .incr
        case 0x7263_6564: self = .decr
        case 0x6572_6970_7865: self = .expire
        case 0x6c_7474: self = .ttl
        case 0x6461_6572_6874: self = .thread
        case 0x73_7461_7473: self = .stats
        case 0x7469_7571: self = .quit
        case 0x6874_7561: self = .auth
        default: return nil
        }
    }

    /// The request's form (see the line protocol's documentation), as its usage error
    /// shows it.
    package var usage: StaticString {
        switch self {
        case .ping: "PING"
        case .echo: "ECHO <text>"
        case .cap: "CAP <text>"
        case .sleep: "SLEEP <ms>"
        case .set: "SET <key> <value>"
        case .get: "GET <key>"
        case .del: "DEL <key>"
        case .incr: "INCR <key> [<delta>]"
        case .decr: "DECR <key> [<delta>]"
        case .expire: "EXPIRE <key> <seconds>"
        case .ttl: "TTL <key>"
        case .thread: "THREAD"
        case .stats: "STATS"
        case .quit: "QUIT"
        case .auth: "AUTH <user> <password>"
        }
    }
}
