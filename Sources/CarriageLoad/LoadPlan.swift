import CarriagePosix

/// Everything a run needs, checked and resolved from the command line. Immutable and
/// shared by the threads (each compiles its own `RequestMix` from `templates`).
struct LoadPlan: Sendable {
    var address: SocketAddress
    var wire: WireProtocol
    var templates: [RequestTemplate]
    var keyCount: Int
    var keyPrefix: String
    var keyOrder: KeyOrder
    /// The value every read must return when it finds its key (`%v`), or nil: not checked.
    var checkedValue: String?
    var connections: Int
    var idle: Int
    var threads: Int
    var pipeline: Int
    /// Seconds of load, or nil when `requests` is set.
    var duration: Double?
    /// Total requests, or nil for a timed run.
    var requests: Int?
    var connectPerRequest: Bool
    var timeoutNanoseconds: UInt64
    /// `--tls`: every connection speaks TLS with these settings (one context for all).
    var tls: TLSContext?
    /// `--auth`: what each connection sends first to log in, and the reply that says it did.
    var login: (request: [UInt8], reply: [UInt8])?

    /// Thread `index`'s share of `total` (the first `total % threads` threads get one more).
    func share(of total: Int, thread index: Int) -> Int {
        total / threads + (index < total % threads ? 1 : 0)
    }
}
