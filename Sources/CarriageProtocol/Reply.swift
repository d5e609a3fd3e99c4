/// The line protocol's reply words, and the lines the server sends on its own: one
/// definition for the server that writes them and the clients that read them (the load
/// tool checks replies against these).
package enum Reply {
    /// Success: `OK` alone, or `OK <payload>`.
    package static let ok: StaticString = "OK"
    /// `GET` of an absent key.
    package static let none: StaticString = "NONE"
    /// A refused request: `ERR <reason>`; the connection stays open.
    package static let error: StaticString = "ERR"
    /// A refused connection: `BUSY <reason>`, then the server closes it.
    package static let busy: StaticString = "BUSY"
    /// One `STATS` line: `STAT <name> <value>`.
    package static let stat: StaticString = "STAT"
    /// The line that ends `STATS`.
    package static let end: StaticString = "END"

    /// Sent at accept past `--max-connections`, then the connection is closed.
    package static let tooManyConnections: StaticString = "BUSY too many connections\n"
    /// Sent for a line longer than `--max-line-bytes`, then the connection is closed.
    package static let lineTooLong: StaticString = "ERR line too long\n"
}
