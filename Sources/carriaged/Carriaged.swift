import ArgumentParser
import CarriagePosix
import CarriageProtocol
import CarriageServer
import CarriageStore
import Glibc
import Logging

extension Logger.Level: @retroactive ExpressibleByArgument {}

/// The daemon: flags, logging, wiring, signals.
@main
struct Carriaged: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "carriaged",
        abstract: "Carriage: a multithreaded line-protocol and memcached server (libevent loops + a fixed pool of pthread workers).",
        version: CarriageVersion.number)

    /// The defaults, written once: the server's own.
    private static let defaults = ServerConfiguration()

    @Option(help: "Address to listen on.")
    var host = defaults.host

    @Option(help: "TCP port to listen on; 0 picks a free one (see the 'listening on' line).")
    var port = defaults.port

    @Option(name: .customLong("memcached-port"), help: "Also serve memcached's text protocol on this port (0 = any free port); off unless given.")
    var memcachedPort: Int?

    @Option(name: .customLong("metrics-port"), help: "Serve Prometheus metrics (GET /metrics) on this port (0 = any free port); off unless given.")
    var metricsPort: Int?

    @Option(name: .customLong("max-item-size"), help: "Largest value a memcached storage command may store; larger gets 'SERVER_ERROR object too large for cache'.")
    var maxItemSize = ByteCount(bytes: defaults.maxItemSize)

    // Optional, so that --help shows the rule, not this machine's value of it.
    @Option(help: "Worker threads (default: the number of cores).")
    var workers: Int?

    @Option(help: "Loop threads, each watching its share of the connections (default: 1 per 4 cores, at least 1).")
    var loops: Int?

    @Option(name: .customLong("loop-scheduling"), help: "Kernel scheduling policy of the loop threads: 'batch' (SCHED_BATCH: a woken loop does not preempt a busy worker, and finds more requests ready per wake-up) or 'normal' (SCHED_OTHER).")
    var loopScheduling = defaults.loopScheduling

    @Option(name: .customLong("auth-file"), help: "Require a login: 'user:password' lines (memcached's -Y format). Line protocol: AUTH <user> <password>; memcached port: memcached's ASCII authentication (a set whose data is 'user password'). Keep it mode 600.")
    var authFile: String?

    @Option(name: .customLong("tls-cert"), help: "Serve TLS (1.2 and newer) with this PEM certificate (its chain after it); needs --tls-key. SIGHUP reloads it.")
    var tlsCert: String?

    @Option(name: .customLong("tls-key"), help: "The PEM private key of --tls-cert.")
    var tlsKey: String?

    @Option(name: .customLong("tls-ca"), help: "PEM: the CAs client certificates must chain to (with --tls-verify-clients).")
    var tlsCA: String?

    @Flag(name: .customLong("tls-verify-clients"), help: "Mutual TLS: refuse clients without a certificate from --tls-ca.")
    var tlsVerifyClients = false

    @Option(name: .customLong("tls-listeners"), help: "Which listeners speak TLS: line, memcached, or line,memcached (the default).")
    var tlsListeners = "line,memcached"

    @Flag(help: "Serve a non-loopback --host without --auth-file (and --metrics-port there at all), which is refused otherwise: anyone who reaches the port can read, overwrite and flush every key.")
    var insecure = false

    @Option(name: .customLong("max-connections"), help: "Open connections at most; more get 'BUSY too many connections'.")
    var maxConnections = defaults.maxConnections

    @Option(name: .customLong("idle-timeout"), help: "Seconds before a silent connection is closed; 0 = never.")
    var idleTimeout = defaults.idleTimeoutSeconds

    @Option(name: .customLong("shutdown-timeout"), help: "Seconds a shutdown waits for running requests before it cuts them short and exits 0 anyway. 0 = wait for them.")
    var shutdownTimeout = defaults.shutdownTimeoutSeconds

    @Option(name: .customLong("request-timeout"), help: "Seconds a request line or data block may take from its first byte to its end; longer and the connection is closed. 0 = never.")
    var requestTimeout = defaults.requestTimeoutSeconds

    @Option(name: .customLong("max-line-bytes"), help: "Longest request line, LF excluded; longer gets 'ERR line too long' and a close.")
    var maxLineBytes = defaults.maxLineBytes

    @Option(name: .customLong("max-memory"), help: "Bound on the store's memory: items with their headers, index and expiry queues (e.g. 64MiB, 512KiB, 1G). RSS stays near it.")
    var maxMemory = ByteCount(bytes: defaults.maxMemoryBytes)

    @Option(name: .customLong("max-client-memory"), help: "Bound on what all connections hold together: partial requests and unsent replies. Past it, reads from connections with partial requests pause and, if need be, those holding the most are closed. 0 = no bound.")
    var maxClientMemory = ByteCount(bytes: defaults.maxClientMemoryBytes)

    @Option(help: "Keep the store in this file across restarts: written at a graceful shutdown (temporary file, fsync, rename), loaded at start before listening. A corrupt file stops start-up.")
    var snapshot: String?

    @Option(name: .customLong("snapshot-interval"), help: "Also write --snapshot every this many seconds while serving (0 = only at shutdown); a kill -9 loses at most that much.")
    var snapshotInterval = defaults.snapshotIntervalSeconds

    @Option(help: "At --max-memory: 'none' refuses writes with 'ERR out of memory'; 'lru' evicts the least recently used items.")
    var eviction = defaults.eviction

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel = Logger.Level.info

    @Option(name: .customLong("pid-file"), help: "Write the pid here at start; removed at exit.")
    var pidFile: String?

    @Flag(help: "Detach: fork and setsid before any thread starts; the parent exits once the daemon listens.")
    var daemon = false

    @Option(name: .customLong("log-file"), help: "Append logs here instead of standard error (useful with --daemon).")
    var logFile: String?

    func validate() throws {
        // The server validates the rest; these are the daemon's own.
        if let logFile, logFile.isEmpty { throw ValidationError("--log-file needs a path") }
    }

    func run() throws {
        // Made absolute first: a daemon changes directory to /.
        let logFile = self.logFile.map(Self.absolute)
        let pidFile = self.pidFile.map(Self.absolute)
        let snapshot = self.snapshot.map(Self.absolute)
        let daemonizer = daemon ? Daemonizer.detach(logFile: logFile) : nil
        let log = logFile.map { LogFile(path: $0, takesStandardOutput: daemon) }
        // The launcher's standard error, kept before --log-file takes the stream over: the
        // start-up line goes there too, for whoever waits for it.
        let launcherError: Int32? = !daemon && logFile != nil ? try? syscallBlocking("dup") { dup(2) } : nil
        if !daemon, let log {
            do {
                try log.open()
            } catch {
                Self.fail(DaemonError.logFile(path: log.path, error), daemonizer)
            }
        }
        let level = logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "carriaged")

        // A peer that goes away must cost an EPIPE on its socket, not the process.
        signal(SIGPIPE, SIG_IGN)
        // SIGINT and SIGTERM are the loop's (libevent's handler) while the server runs.
        // libevent puts back the disposition it found when its signal events go, so
        // ignoring them first means a repeated Ctrl-C on the way out cannot kill the
        // process after a clean shutdown.
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        // Per loop its epoll, wake-up eventfd and sweep timerfd; listening sockets, the
        // expiry timerfd, signal pipe, stdio, and a margin.
        let needed = maxConnections + 3 * (loops ?? Self.defaults.loops) + 64
        let (soft, hard) = OpenFileLimit.raise(toFit: needed)
        if soft < needed {
            logger.warning("open-file limit is \(soft) (hard limit \(hard)), below the \(needed) that --max-connections \(maxConnections) needs: accept pauses when descriptors run out")
        }

        var configuration = ServerConfiguration()
        configuration.host = host
        configuration.port = port
        configuration.memcachedPort = memcachedPort
        configuration.metricsPort = metricsPort
        configuration.maxItemSize = maxItemSize.bytes
        configuration.workers = workers ?? Self.defaults.workers
        configuration.loops = loops ?? Self.defaults.loops
        configuration.loopScheduling = loopScheduling
        configuration.maxConnections = maxConnections
        configuration.idleTimeoutSeconds = idleTimeout
        configuration.requestTimeoutSeconds = requestTimeout
        configuration.shutdownTimeoutSeconds = shutdownTimeout
        configuration.maxLineBytes = maxLineBytes
        configuration.maxMemoryBytes = maxMemory.bytes
        configuration.maxClientMemoryBytes = maxClientMemory.bytes
        configuration.eviction = eviction
        configuration.snapshotPath = snapshot
        configuration.snapshotIntervalSeconds = snapshotInterval
        configuration.insecure = insecure
        if tlsCert != nil || tlsKey != nil {
            guard let tlsCert, let tlsKey else {
                Self.fail(ServerError.invalidConfiguration("--tls-cert and --tls-key go together: give both"), daemonizer)
            }
            var tls = TLSConfiguration(certificatePath: Self.absolute(tlsCert), keyPath: Self.absolute(tlsKey))
            tls.clientCAPath = tlsCA.map(Self.absolute)
            tls.verifyClients = tlsVerifyClients
            let listeners = tlsListeners.split(separator: ",").map(String.init)
            guard !listeners.isEmpty, listeners.allSatisfy({ $0 == "line" || $0 == "memcached" }) else {
                Self.fail(ServerError.invalidConfiguration("--tls-listeners takes line, memcached or line,memcached (got '\(tlsListeners)')"), daemonizer)
            }
            tls.onLinePort = listeners.contains("line")
            tls.onMemcachedPort = listeners.contains("memcached")
            configuration.tls = tls
        } else if tlsCA != nil || tlsVerifyClients {
            Self.fail(ServerError.invalidConfiguration("--tls-ca and --tls-verify-clients need --tls-cert and --tls-key"), daemonizer)
        }
        if let authFile {
            do {
                let (credentials, warning) = try AuthFile.load(Self.absolute(authFile))
                configuration.credentials = credentials
                if let warning { logger.warning("\(warning)") }
                logger.info("--auth-file \(authFile): \(credentials.users.count) user(s); connections must log in")
            } catch {
                Self.fail(error, daemonizer)
            }
        }

        // Locked before the server binds: a second daemon given the same file stops here.
        var pid: PidFile?
        if let pidFile {
            do {
                pid = try PidFile.lock(at: pidFile)
            } catch {
                Self.fail(error, daemonizer)
            }
        }
        let server: Server
        do {
            server = try Server(configuration: configuration, logger: logger)
            try server.stopOnSignals([SIGINT, SIGTERM])
            // SIGHUP (logrotate, a closing terminal) reopens --log-file and is otherwise
            // harmless.
            try server.onSignal(SIGHUP) { [unowned server] in
                server.reloadCertificates()
                guard let log else { return logger.info("SIGHUP: no --log-file to reopen") }
                do throws(SystemError) {
                    try log.open()
                    logger.info("SIGHUP: reopened --log-file \(log.path)")
                } catch {
                    logger.error("SIGHUP: cannot reopen --log-file \(log.path): \(error.reason); still writing to the old file")
                }
            }
            // SIGUSR1: the server's statistics, in the log, from the loop (never behind a
            // busy worker, as `STATS` would be when every worker is blocked).
            try server.onSignal(SIGUSR1) { [unowned server] in logger.info("SIGUSR1: stats \(server.statisticsLine())") }
            try server.onSignal(SIGUSR2) { logger.info("signal \(SIGUSR2): carriaged defines no action for it; ignored") }
        } catch {
            pid?.remove()
            Self.fail(error, daemonizer)
        }
        // Once every loop thread runs, at any --log-level: a launcher waits for this line.
        let systemd = SystemdNotifier.fromEnvironment()
        server.onListening = { line in
            if level > .info { StandardError.write(line: "carriaged: \(line)") }
            if let launcherError { try? Descriptor.writeAll(launcherError, Array("carriaged: \(line)\n".utf8)) }
            daemonizer?.ready(line)
            Self.notify(systemd, "READY=1", logger)
        }
        server.onStopping = { Self.notify(systemd, "STOPPING=1", logger) }
        let finished = server.run()
        pid?.remove()
        // The store could not be saved: say so in the exit status too (it was logged).
        if server.finalSnapshotFailed { Glibc.exit(1) }
        // Cut short by --shutdown-timeout: workers still run requests; leave without them.
        if !finished { Glibc.exit(0) }
    }

    /// Tells systemd (`Type=notify`), if it asked; a failure is logged, not fatal.
    private static func notify(_ notifier: SystemdNotifier?, _ state: String, _ logger: Logger) {
        guard let notifier else { return }
        do throws(SystemError) {
            try notifier.notify(state)
        } catch {
            logger.warning("cannot tell systemd \(state) through NOTIFY_SOCKET \(notifier.socketPath): \(error.reason)")
        }
    }

    /// `path` from the current directory, when it is relative.
    private static func absolute(_ path: String) -> String {
        guard !path.hasPrefix("/"), let cwd = getcwd(nil, 0) else { return path }
        defer { free(cwd) }
        return String(cString: cwd) + "/" + path
    }

    private static func fail(_ error: any Error, _ daemonizer: Daemonizer?) -> Never {
        daemonizer?.failed("\(error)")
        StandardError.write(line: "carriaged: \(error)")
        Glibc.exit(1)
    }

    /// Parses the command line: a bad flag is one line on standard error, not a usage dump.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))  // --help
                Glibc.exit(0)
            }
            // One line: a list the parser prints a line per item (the values a flag
            // accepts) is joined onto it.
            let lines = message(for: error).split(separator: "\n").map { $0.drop { $0 == " " }.trimmingPrefix("- ") }
            let message = lines.isEmpty ? "\(error)" : lines[0] + (lines.count > 1 ? " " + lines.dropFirst().joined(separator: ", ") : "")
            StandardError.write(line: "carriaged: \(message) (see carriaged --help)")
            Glibc.exit(code.rawValue)
        }
    }
}

extension EvictionPolicy: ExpressibleByArgument {}
extension SchedulingPolicy: ExpressibleByArgument {}
