import CarriagePosix
import CarriageProtocol
import CarriageStore
import Glibc

/// Everything the server is told at start. The daemon's flags map onto it one to one.
public struct ServerConfiguration: Sendable {
    /// Address to listen on (numeric, or a name `getaddrinfo` resolves).
    public var host = "127.0.0.1"
    /// TCP port; 0 lets the kernel choose (see ``Server/port``).
    public var port = 8000
    /// TCP port for memcached's text protocol; nil for none, 0 lets the kernel choose (see
    /// ``Server/memcachedPort``). Same host, loop, workers, store and limits.
    public var memcachedPort: Int?
    /// The largest value a memcached storage command may store; larger gets
    /// `SERVER_ERROR object too large for cache`.
    public var maxItemSize = 1 << 20
    /// Worker threads; defaults to the number of online cores.
    public var workers = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    /// Loop threads, each with its own event base and share of the connections. By
    /// default one per 4 cores: a loop spends a third (its cores idle) to a sixth (busy, under
    /// `SCHED_BATCH`) of the CPU per request that the workers do (README, "How far it
    /// scales"), so one loop feeds 3 to 6 workers' cores.
    public var loops = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))) / 4)
    /// How the kernel schedules the loop threads. `batch` by default: on busy cores a loop
    /// then no longer preempts the workers each time a request arrives, and finds more
    /// requests ready per wake-up: half the loop CPU per request on this 2-core machine,
    /// more throughput, no worse latency (README, "How far it scales").
    public var loopScheduling = SchedulingPolicy.batch
    /// Open client connections at most; one more gets `BUSY too many connections`.
    public var maxConnections = 10_000
    /// Seconds a connection may stay silent before it is closed; 0 = never.
    public var idleTimeoutSeconds = 300
    /// Seconds a request (its line, or a memcached data block) may take to arrive from its
    /// first byte; longer and the connection is closed. 0 = never. Bounds what a client that
    /// trickles bytes can hold, which the idle timeout (silence) does not see.
    public var requestTimeoutSeconds = 30
    /// The longest request line accepted, LF excluded.
    public var maxLineBytes = 65_536
    /// The bound on what connections hold in all: partial requests and unsent replies (see
    /// `ClientMemory`). 0 = none. The default, as much as the store's, lets 1,000 clients
    /// each hold a whole 64 KiB request line at once (or 256 a 256 KiB backlog of replies),
    /// far beyond what request/response clients hold (nothing between requests), and caps
    /// slow or hostile clients at a tenth of what 10,000 connections x 64 KiB lines would
    /// take without it.
    public var maxClientMemoryBytes = 64 << 20
    /// The store's bound on its memory: slab pages, index and expiry queues.
    public var maxMemoryBytes = 64 << 20
    /// What a write does when `maxMemoryBytes` leaves no room.
    public var eviction = EvictionPolicy.none
    /// Requests one connection may run per turn before it goes to the back of the queue,
    /// so a pipelining client cannot hold a worker (memcached's `-R`).
    public var requestsPerTurn = 256
    /// Seconds a shutdown waits for unsent replies to drain before it closes anyway.
    public var shutdownGraceSeconds = 10
    /// Seconds a shutdown waits in all for running requests; then the connections still
    /// busy are cut short and ``Server/run()`` returns anyway. 0 = wait for them. The
    /// default is longer than any request but `SLEEP` should take, and shorter than
    /// systemd's 90 s stop timeout, so the daemon exits by itself, logging what it cut.
    public var shutdownTimeoutSeconds = 30

    /// TCP port of the Prometheus endpoint (`GET /metrics`, same host); nil for none, 0
    /// lets the kernel choose (see ``Server/metricsPort``).
    public var metricsPort: Int?
    /// `--auth-file`'s users: a connection must log in before anything but `PING`/`QUIT`
    /// (line protocol) runs. nil for no login.
    public var credentials: Credentials?
    /// TLS on the listeners (`--tls-cert`, `--tls-key`, ...); nil for plain TCP.
    public var tls: TLSConfiguration?
    /// Serve a non-loopback address without protection anyway (`--insecure`): without it,
    /// such an address needs `credentials`, and the metrics port (which has no login)
    /// stays on loopback.
    public var insecure = false
    /// Where the store is kept across restarts: written at a graceful shutdown (and every
    /// `snapshotIntervalSeconds`), loaded at start before the listeners open. nil for none.
    public var snapshotPath: String?
    /// Seconds between snapshots while serving; 0 = only at shutdown.
    public var snapshotIntervalSeconds = 0

    public init() {}

    /// Checks the values a user typed; the message names the flag.
    public func validate() throws(ServerError) {
        func check(_ ok: Bool, _ message: String) throws(ServerError) {
            if !ok { throw .invalidConfiguration(message) }
        }
        try check((0...65535).contains(port), "--port must be 0 to 65535 (got \(port))")
        if let memcachedPort {
            try check((0...65535).contains(memcachedPort), "--memcached-port must be 0 to 65535 (got \(memcachedPort))")
            try check(memcachedPort == 0 || memcachedPort != port, "--memcached-port must differ from --port (both \(port))")
        }
        try check((1...(1 << 30) - 1).contains(maxItemSize), "--max-item-size must be 1 byte to 1GiB - 1 (got \(maxItemSize))")
        try check((1...1024).contains(workers), "--workers must be 1 to 1024 (got \(workers))")
        try check((1...64).contains(loops), "--loops must be 1 to 64 (got \(loops))")
        try check((1...1_000_000).contains(maxConnections), "--max-connections must be 1 to 1000000 (got \(maxConnections))")
        try check(shutdownTimeoutSeconds >= 0, "--shutdown-timeout must be 0 (wait for running requests) or more seconds (got \(shutdownTimeoutSeconds))")
        try check(requestTimeoutSeconds >= 0, "--request-timeout must be 0 (never) or more seconds (got \(requestTimeoutSeconds))")
        try check(idleTimeoutSeconds >= 0, "--idle-timeout must be 0 (never) or more seconds (got \(idleTimeoutSeconds))")
        try check((1...(64 << 20)).contains(maxLineBytes), "--max-line-bytes must be 1 to 67108864 (got \(maxLineBytes))")
        try check(maxMemoryBytes >= 0, "--max-memory must not be negative")
        let largestRequest = max(maxItemSize, maxLineBytes)
        try check(maxClientMemoryBytes == 0 || maxClientMemoryBytes >= largestRequest,
                  "--max-client-memory must be 0 (no bound) or at least the largest request, \(largestRequest) bytes (--max-item-size, --max-line-bytes); got \(maxClientMemoryBytes)")
        if let metricsPort {
            try check((0...65535).contains(metricsPort), "--metrics-port must be 0 to 65535 (got \(metricsPort))")
            try check(metricsPort == 0 || (metricsPort != port && metricsPort != memcachedPort), "--metrics-port must differ from --port and --memcached-port")
        }
        try check(snapshotIntervalSeconds >= 0, "--snapshot-interval must be 0 (only at shutdown) or more seconds (got \(snapshotIntervalSeconds))")
        try check(snapshotIntervalSeconds == 0 || snapshotPath != nil, "--snapshot-interval needs --snapshot PATH")
        try check(snapshotPath != "", "--snapshot needs a file path")
        try check(requestsPerTurn >= 1, "requests per turn must be at least 1")
        if let tls {
            try check(!tls.verifyClients || tls.clientCAPath != nil, "--tls-verify-clients needs --tls-ca PEM: the CAs client certificates must chain to")
            try check(tls.onLinePort || tls.onMemcachedPort, "--tls-listeners must name line, memcached or both")
            // The default names both; only a lone `memcached` needs the port to exist.
            try check(!tls.onMemcachedPort || memcachedPort != nil || tls.onLinePort, "--tls-listeners memcached needs --memcached-port")
        }
    }
}
