/// memcached's reply lines, byte for byte as memcached 1.6 sends them.
package enum MemcachedReply {
    package static let stored: StaticString = "STORED\r\n"
    package static let notStored: StaticString = "NOT_STORED\r\n"
    package static let exists: StaticString = "EXISTS\r\n"
    package static let notFound: StaticString = "NOT_FOUND\r\n"
    package static let deleted: StaticString = "DELETED\r\n"
    package static let touched: StaticString = "TOUCHED\r\n"
    package static let end: StaticString = "END\r\n"
    package static let ok: StaticString = "OK\r\n"
    package static let error: StaticString = "ERROR\r\n"
    package static let badFormat: StaticString = "CLIENT_ERROR bad command line format\r\n"
    package static let badDataChunk: StaticString = "CLIENT_ERROR bad data chunk\r\n"
    package static let badDelta: StaticString = "CLIENT_ERROR invalid numeric delta argument\r\n"
    package static let badExptime: StaticString = "CLIENT_ERROR invalid exptime argument\r\n"
    package static let nonNumeric: StaticString = "CLIENT_ERROR cannot increment or decrement non-numeric value\r\n"
    package static let deleteUsage: StaticString =
        "CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]\r\n"
    package static let lineTooLong: StaticString = "CLIENT_ERROR line too long\r\n"
    package static let tooLarge: StaticString = "SERVER_ERROR object too large for cache\r\n"
    package static let outOfMemory: StaticString = "SERVER_ERROR out of memory storing object\r\n"
    package static let invalidFlag: StaticString = "CLIENT_ERROR invalid flag\r\n"
    /// Before a connection has logged in (`--auth-file`), to every command but the login.
    package static let unauthenticated: StaticString = "CLIENT_ERROR unauthenticated\r\n"
    package static let authFailure: StaticString = "CLIENT_ERROR authentication failure\r\n"
    package static let badAuthToken: StaticString = "CLIENT_ERROR bad authentication token format\r\n"
    package static let opaqueTooLong: StaticString = "CLIENT_ERROR opaque token too long\r\n"
    /// Sent at accept past `--max-connections`, then the connection is closed (memcached's
    /// own words for it).
    package static let tooManyConnections: StaticString = "SERVER_ERROR Too many open connections\r\n"
    /// What `version` answers: a memcached 1.6 version (clients parse it), then ours.
    package static let versionNumber = Array("1.6.0-carriage-\(CarriageVersion.number)".utf8)
}
