import CarriageStore

/// Runs request lines of protocol version 1 against the shared store.
///
/// One processor serves every connection and worker thread at once: it keeps no state of its
/// own beyond the store and the environment, both thread-safe.
public final class CommandProcessor: Sendable {
    private let store: Store
    private let environment: any ServerEnvironment
    /// The users `AUTH` checks (`--auth-file`); nil when the server needs no login.
    public let credentials: Credentials?

    /// Creates a processor over `store`, asking `environment` for `THREAD` and `STATS`;
    /// with `credentials`, a connection must `AUTH` first (see ``execute(line:auth:output:)``).
    public init(store: Store, environment: any ServerEnvironment, credentials: Credentials? = nil) {
        self.store = store
        self.environment = environment
        self.credentials = credentials
    }

    /// Runs one request line of a connection that has not logged in yet (the server has
    /// ``credentials``): `AUTH <user> <password>` answers `OK` or `ERR auth failed` (the
    /// third failure closes the connection); `PING` and `QUIT` run; anything else gets
    /// `ERR auth required`. What the caller should log and count is in `auth`'s change.
    public func execute(line: ArraySlice<UInt8>, auth: inout AuthState, output: inout [UInt8]) -> Disposition {
        guard !line.isEmpty else { return .keepOpen }
        let request: Request
        do throws(CommandError) {
            request = try Request(parsing: line)
        } catch {
            // Refused before it is looked at: what a request would have said is not shown
            // to a client that has not logged in.
            output.append(static: "ERR auth required\n")
            return .keepOpen
        }
        switch request {
        case .ping, .quit:
            return execute(line: line, output: &output)
        case .auth(let user, let password):
            guard let credentials, credentials.verify(user: line[user], password: line[password]) else {
                output.append(static: "ERR auth failed\n")
                return auth.fail() ? .close : .keepOpen
            }
            auth.isAuthenticated = true
            output.append(static: "OK\n")
            return .keepOpen
        default:
            output.append(static: "ERR auth required\n")
            return .keepOpen
        }
    }

    /// Runs one request line (the LF and a CR right before it are already removed, the line is
    /// not empty, its length is within the server's max-line-bytes) and appends the complete
    /// reply line(s), each ending in "\n", to `output`.
    ///
    /// An empty line is not a request: nothing is appended. `SLEEP` blocks the calling thread.
    /// - Returns: `.close` after `QUIT`'s reply, `.keepOpen` otherwise (errors included).
    public func execute(line: ArraySlice<UInt8>, output: inout [UInt8]) -> Disposition {
        guard !line.isEmpty else { return .keepOpen }
        do throws(CommandError) {
            return try run(Request(parsing: line), in: line, output: &output)
        } catch {
            error.appendReply(to: &output)
            return .keepOpen
        }
    }

    /// Runs `request`, whose ranges are indices of `line`.
    private func run(
        _ request: Request, in line: ArraySlice<UInt8>, output: inout [UInt8]
    ) throws(CommandError) -> Disposition {
        switch request {
        case .ping:
            output.append(static: "OK PONG\n")
        case .echo(let text):
            output.append(static: "OK ")
            output.append(contentsOf: line[text])
            output.append(static: "\n")
        case .cap(let text):
            output.append(static: "OK ")
            Capitalization.appendCapitalized(line[text], to: &output)
            output.append(static: "\n")
        case .sleep(let milliseconds):
            environment.block(milliseconds: milliseconds)
            output.append(static: "OK\n")
        case .set(let key, let value):
            do throws(StoreError) {
                try store.set(line[value], forKey: line[key])
            } catch {
                throw CommandError(error)
            }
            output.append(static: "OK\n")
        case .get(let key):
            // The value is copied from the store straight after the reply word.
            appendWord(Reply.ok, to: &output)
            let start = output.count
            if store.read(line[key], appendingValueTo: &output) != nil {
                // A value stored over memcached's protocol may hold a line break, which a
                // one-line reply cannot carry.
                if output[start...].contains(where: { $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r") }) {
                    output.removeLast(output.count - start + Reply.ok.utf8CodeUnitCount + 1)
                    throw .valueHasLineBreak
                }
                output.append(static: "\n")
            } else {
                output.removeLast(Reply.ok.utf8CodeUnitCount + 1)
                output.append(static: Reply.none)
                output.append(static: "\n")
            }
        case .del(let key):
            output.append(static: store.removeValue(forKey: line[key]) ? "OK 1\n" : "OK 0\n")
        case .incr(let key, let delta):
            let value: Int64
            do throws(StoreError) {
                value = try store.increment(line[key], by: delta)
            } catch {
                throw CommandError(error)
            }
            appendInteger(value, to: &output)
        case .decr(let key, let delta):
            let value: Int64
            do throws(StoreError) {
                value = try store.decrement(line[key], by: delta)
            } catch {
                throw CommandError(error)
            }
            appendInteger(value, to: &output)
        case .expire(let key, let seconds):
            let found: Bool
            do throws(StoreError) {
                found = try store.expire(line[key], afterSeconds: seconds)
            } catch {
                throw CommandError(error)
            }
            output.append(static: found ? "OK 1\n" : "OK 0\n")
        case .ttl(let key):
            switch store.timeToLive(line[key]) {
            case nil:
                output.append(static: Reply.none)
                output.append(static: "\n")
            case .never:
                appendInteger(-1, to: &output)
            case .seconds(let left):
                appendInteger(Int64(left), to: &output)
            }
        case .thread:
            output.append(static: "OK ")
            output.append(contentsOf: environment.threadDescription().utf8)
            output.append(static: "\n")
        case .stats:
            appendWord(Reply.stat, to: &output)
            output.append(static: "version ")
            output.append(contentsOf: CarriageVersion.number.utf8)
            output.append(static: "\n")
            for stat in environment.serverStats() {
                appendStat(stat.name, stat.value, to: &output)
            }
            for stat in store.statLines {
                appendStat(stat.name, stat.value, to: &output)
            }
            output.append(static: Reply.end)
            output.append(static: "\n")
        case .quit:
            output.append(static: "OK BYE\n")
            return .close
        case .auth(let user, let password):
            // Logged in already, or no login needed: a check that changes nothing.
            guard let credentials else {
                output.append(static: "ERR auth not enabled\n")
                return .keepOpen
            }
            output.append(static: credentials.verify(user: line[user], password: line[password]) ? "OK\n" : "ERR auth failed\n")
        }
        return .keepOpen
    }

    /// `word` and the space after it.
    private func appendWord(_ word: StaticString, to output: inout [UInt8]) {
        output.append(static: word)
        output.append(static: " ")
    }

    private func appendInteger(_ value: Int64, to output: inout [UInt8]) {
        appendWord(Reply.ok, to: &output)
        DecimalInteger.append(value, to: &output)
        output.append(static: "\n")
    }

    private func appendStat(_ name: String, _ value: Int, to output: inout [UInt8]) {
        appendWord(Reply.stat, to: &output)
        output.append(contentsOf: name.utf8)
        output.append(static: " ")
        DecimalInteger.append(value, to: &output)
        output.append(static: "\n")
    }
}
