/// The kinds of failure the tool counts. Every issued request ends as one success or one of
/// these (except `connectFailed`, which counts connection attempts), and none is ever hidden:
/// all appear in the summary and the JSON.
enum ErrorKind: Int, CaseIterable, Sendable {
    /// `connect` failed or timed out (refused, unreachable, out of ports or descriptors).
    case connectFailed
    /// The connection was reset (`ECONNRESET`, `EPIPE` and other socket errors).
    case reset
    /// The server closed the connection with requests unanswered, or for no reason.
    case closed
    /// No reply within `--timeout`.
    case timeout
    /// A complete reply that is not what the protocol says (or bytes nobody asked for).
    case wrongReply
    /// The server refused a request that was not meant to fail (`ERR ...`, `ERROR`,
    /// `CLIENT_ERROR`, `-ERR`): a typo in `--request`, a full store, a counter that is text.
    case errorReply
    /// The server refused the connection (`BUSY`, "too many connections").
    case busy

    var name: String {
        switch self {
        case .connectFailed: return "connect_failed"
        case .reset: return "reset"
        case .closed: return "closed"
        case .timeout: return "timeout"
        case .wrongReply: return "wrong_reply"
        case .errorReply: return "error_reply"
        case .busy: return "busy"
        }
    }
}
