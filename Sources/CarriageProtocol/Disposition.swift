/// What the server does with a connection after sending the reply to one request.
public enum Disposition: Sendable {
    /// Keep reading requests from the connection.
    case keepOpen
    /// Close the connection once the reply has been sent (after `QUIT`).
    case close
}
