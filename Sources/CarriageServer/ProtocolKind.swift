/// Which protocol a connection speaks: the listener that accepted it decides.
enum ProtocolKind {
    /// Carriage's line protocol (`--port`).
    case line
    /// memcached's text protocol (`--memcached-port`).
    case memcached
}
