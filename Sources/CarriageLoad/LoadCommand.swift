import ArgumentParser
import CarriagePosix
import Glibc

/// `carriage-load`: closed-loop load for Carriage (and memcached or Redis, for comparison).
@main
struct LoadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "carriage-load",
        abstract: "Closed-loop load generator for carriaged (and memcached or Redis, for comparison).",
        discussion: """
        Each of --connections keeps --pipeline requests in flight; every reply is
        checked against the protocol. Requests come from --request flags,
        '[WEIGHT:][!]LINE': %k is a key from --keys (--key-order), %v the value (--value-size
        bytes), %n its length, %% a '%'; \\r \\n \\t \\\\ are escapes. An error
        reply counts as an error, and a request the protocol refuses is refused at
        start, unless the line is marked '!' (meant to fail: the error is its reply).

        Examples:
          carriage-load --port 8000 --request PING --request 'ECHO hi'
          carriage-load --request '90:GET %k' --request '10:SET %k %v'
          carriage-load --protocol memcached --request 'get %k' \\
                        --request 'set %k 0 0 %n\\r\\n%v'
          carriage-load --protocol redis --request 'INCR hot' --requests 100000 --json

        Exit status: 0 when every request got the right reply, 1 when any error
        was counted, 2 when the server could not be reached, 64 for a bad flag.
        """
    )

    @Option(help: "Server host (a numeric address or a name).")
    var host = "127.0.0.1"

    @Option(help: "Server port.")
    var port = 8000

    @Option(help: "Protocol to speak: carriage, memcached or redis.")
    var `protocol` = WireProtocol.carriage

    @Option(help: "Concurrent load connections (closed-loop clients).")
    var connections = 50

    @Option(help: "Seconds of load (default 5 unless --requests is given).")
    var duration: Double?

    @Option(name: .customLong("requests"), help: "Total requests to send, then stop (instead of --duration).")
    var requestCount: Int?

    @Option(help: "Requests in flight per connection.")
    var pipeline = 1

    @Option(name: .customLong("request"), help: ArgumentHelp("A request line, '[WEIGHT:][!]LINE' (repeatable; default PING, or version for memcached).", valueName: "line"))
    var requestLines: [String] = []

    @Option(help: "Keys that %k draws from (key:0 ... key:N-1 with the default prefix).")
    var keys = 1000

    @Option(help: "Prefix of the keys %k renders.")
    var keyPrefix = "key:"

    @Option(help: "How %k draws keys: random, or sequential (each key in turn: --requests equal to --keys fills a store with every key once).")
    var keyOrder = KeyOrder.random

    @Option(help: "Bytes of the value %v renders.")
    var valueSize = 32

    @Flag(name: .customLong("no-check-values"), help: "Do not check that reads return the value %v writes (checked whenever a request writes %v).")
    var noCheckValues = false

    @Flag(help: "Speak TLS (1.2 or newer) to the server; its certificate is checked only with --tls-ca.")
    var tls = false

    @Option(name: .customLong("tls-ca"), help: "PEM: the CAs the server's certificate must chain to (with --tls).")
    var tlsCA: String?

    @Option(help: ArgumentHelp("Log every connection in first, as user:password: AUTH on the line protocol, memcached's ASCII authentication on its protocol.", valueName: "user:password"))
    var auth: String?

    @Flag(help: "One request per connection: connect, send, read the reply, close.")
    var connectPerRequest = false

    @Option(help: "Extra connections that stay open and silent during the run.")
    var idle = 0

    @Option(help: "Threads, each with its own event loop and share of the connections.")
    var threads = 1

    @Option(help: "Seconds before a connect or a reply counts as timed out.")
    var timeout = 5.0

    @Flag(help: "Print one JSON object on stdout instead of the summary.")
    var json = false

    mutating func validate() throws {
        func check(_ ok: Bool, _ message: String) throws {
            if !ok { throw ValidationError(message) }
        }
        try check((1...65535).contains(port), "--port must be 1 to 65535")
        try check((1...1_000_000).contains(connections), "--connections must be 1 to 1000000")
        try check((1...256).contains(threads), "--threads must be 1 to 256")
        try check(threads <= connections, "--threads cannot exceed --connections")
        try check((1...65536).contains(pipeline), "--pipeline must be 1 to 65536")
        try check(!connectPerRequest || pipeline == 1, "--connect-per-request sends one request per connection: leave --pipeline at 1")
        try check((0...1_000_000).contains(idle), "--idle must be 0 to 1000000")
        try check(duration == nil || requestCount == nil, "give --duration or --requests, not both")
        if let duration { try check(duration > 0 && duration <= 86_400, "--duration must be more than 0 and at most 86400 seconds") }
        if let requestCount { try check(requestCount >= 1, "--requests must be at least 1") }
        try check((1...10_000_000).contains(keys), "--keys must be 1 to 10000000")
        try check((0...1_048_576).contains(valueSize), "--value-size must be 0 to 1048576")
        try check(timeout > 0 && timeout <= 3600, "--timeout must be more than 0 and at most 3600 seconds")
        try check(tlsCA == nil || tls, "--tls-ca needs --tls")
        if let auth {
            let parts = auth.split(separator: ":", maxSplits: 1)
            try check(parts.count == 2 && !parts[0].isEmpty && !parts[1].isEmpty && !auth.contains(" "), "--auth takes user:password")
            try check(`protocol` != .redis, "--auth speaks the line protocol's AUTH or memcached's login; Redis is not covered")
        }
        try check(!keyPrefix.contains(" ") && !keyPrefix.contains("\n") && !keyPrefix.contains("\r"), "--key-prefix cannot hold spaces or line breaks")
    }

    /// Builds the plan: resolves the host and checks every request line.
    func makePlan() throws(LoadError) -> LoadPlan {
        let value = String((0..<valueSize).map { Character(Unicode.Scalar(UInt8(97 + $0 % 26))) })
        let lines = requestLines.isEmpty ? [`protocol`.defaultRequest] : requestLines
        var templates: [RequestTemplate] = []
        for line in lines {
            templates.append(try RequestTemplate(parsing: line, wire: `protocol`, value: value))
        }
        let address: SocketAddress
        do {
            address = try SocketAddress(host: host, port: port, passive: false)
        } catch {
            throw .badOption("cannot resolve host '\(host)': \(error.reason)")
        }
        var tlsContext: TLSContext?
        if tls {
            do {
                tlsContext = try TLSContext(clientTrusting: tlsCA)
            } catch {
                throw .badOption("\(error)")
            }
        }
        var login: (request: [UInt8], reply: [UInt8])?
        if let auth {
            let parts = auth.split(separator: ":", maxSplits: 1).map(String.init)
            switch `protocol` {
            case .memcached:
                let token = "\(parts[0]) \(parts[1])"
                login = (Array("set auth 0 0 \(token.utf8.count)\r\n\(token)\r\n".utf8), Array("STORED\r\n".utf8))
            default:
                login = (Array("AUTH \(parts[0]) \(parts[1])\n".utf8), Array("OK\n".utf8))
            }
        }
        return LoadPlan(
            address: address,
            wire: `protocol`, templates: templates, keyCount: keys, keyPrefix: keyPrefix, keyOrder: keyOrder,
            // A mix that writes %v reads it back: every value found must be it.
            checkedValue: !noCheckValues && lines.contains { $0.contains("%v") } ? value : nil,
            connections: connections, idle: idle, threads: threads, pipeline: pipeline,
            duration: requestCount == nil ? (duration ?? 5) : nil, requests: requestCount,
            connectPerRequest: connectPerRequest,
            timeoutNanoseconds: MonotonicClock.nanoseconds(fromSeconds: timeout),
            tls: tlsContext, login: login)
    }

    /// Runs the load; returns the exit status.
    func execute() throws(LoadError) -> Int32 {
        let report = try LoadRun(plan: makePlan()).execute()
        for sample in report.stats.samples {
            StandardError.write(line: "carriage-load: \(sample)")
        }
        print(json ? report.json() : report.text())
        if report.stopReason == .unreachable {
            throw .unreachable(address: "\(report.plan.address)", report.stats.firstConnectError)
        }
        if report.stopReason == .stalled {
            StandardError.write(line: "carriage-load: stopped early: nothing was answered for \(timeout) s")
        }
        return report.exitStatus
    }

    /// Parses the flags and runs, turning every error into one line on stderr and an exit
    /// status (no usage dump, no stack trace).
    static func main() {
        let command: LoadCommand
        do {
            command = try parse()
        } catch {
            if exitCode(for: error) == .success { exit(withError: error) }  // --help
            let message = message(for: error).split(separator: "\n").first.map(String.init) ?? "bad arguments"
            StandardError.write(line: "carriage-load: \(message) (see --help)")
            Glibc.exit(64)
        }
        do {
            let status = try command.execute()
            Glibc.exit(status)
        } catch {
            StandardError.write(line: "carriage-load: \(error.description)")
            Glibc.exit(error.exitStatus)
        }
    }
}
