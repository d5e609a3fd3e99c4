// The fuzz target: the login exchange (`--auth-file`) of both protocols, framed as the
// server's worker frames it, switching to the ordinary path once logged in. Built by
// scripts/fuzz.sh with -sanitize=fuzzer,address and -parse-as-library.
import CarriageProtocol
import CarriageStore
import FuzzSupport

private let store = Store(maxMemoryBytes: 4 << 20, eviction: .lru, shardCount: 4)
private let credentials = try! Credentials(parsing: Array("alice:secret\nbob:pa:ss\n".utf8))
private let lines = CommandProcessor(store: store, environment: FuzzEnvironment(), credentials: credentials)
private let memcached = MemcachedProcessor(
    store: store, environment: FuzzEnvironment(), maxLineBytes: 4096, maxItemSize: 64 << 10)
private let maxLineBytes = 4096

/// A login happens only with a user's own password somewhere in what was sent.
private func checkLogin(_ auth: AuthState, after sent: ArraySlice<UInt8>) {
    guard auth.isAuthenticated else { return }
    let secrets = [Array("secret".utf8), Array("pa:ss".utf8)]
    precondition(secrets.contains { secret in
        sent.indices.contains { sent[$0...].starts(with: secret) }
    }, "logged in without a password")
}

/// One input: the first byte picks the protocol (bit 0) and the chunk size (the rest) in
/// which the bytes after it arrive.
func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let first = bytes.first else { return 0 }
    let chunk = max(1, Int(first >> 1))
    var auth = AuthState()
    var input: [UInt8] = []
    var output: [UInt8] = []
    var discard = 0
    var offset = 1
    var sentEnd = 1
    while offset < bytes.count {
        let end = min(bytes.count, offset + chunk)
        var arrived = bytes[offset..<end]
        offset = end
        let dropped = min(discard, arrived.count)
        discard -= dropped
        arrived = arrived.dropFirst(dropped)
        input.append(contentsOf: arrived)
        sentEnd = end
        var start = 0
        if first & 1 == 0 {
            // The line protocol.
            while let newline = input[start...].firstIndex(of: UInt8(ascii: "\n")) {
                var line = input[start..<newline]
                start = newline + 1
                if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
                guard !line.isEmpty, line.count <= maxLineBytes,
                      !line.starts(with: Array("SLEEP".utf8)), !line.starts(with: Array("sleep".utf8)) else { continue }
                let failures = auth.failures
                let disposition = auth.isAuthenticated
                    ? lines.execute(line: line, output: &output)
                    : lines.execute(line: line, auth: &auth, output: &output)
                precondition(output.last == UInt8(ascii: "\n"), "every request gets a reply line")
                checkLogin(auth, after: bytes[1..<sentEnd])
                if disposition == .close {
                    precondition(auth.failures == AuthState.maxFailures || line.count >= 4, "closed for no reason")
                    return 0
                }
                precondition(auth.failures <= failures + 1 && auth.failures < AuthState.maxFailures, "failures miscounted")
                output.removeAll(keepingCapacity: true)
            }
        } else {
            // memcached's protocol.
            run: while start < input.count {
                let step = auth.isAuthenticated
                    ? memcached.process(input[start...], output: &output)
                    : memcached.processBeforeAuth(input[start...], auth: &auth, credentials: credentials, output: &output)
                checkLogin(auth, after: bytes[1..<sentEnd])
                switch step {
                case .incomplete: break run
                case .ran(let consumed):
                    precondition(consumed > 0 && consumed <= input.count - start, "consumed out of range")
                    start += consumed
                case .discard(let consumed, let remaining):
                    precondition(consumed <= input.count - start && remaining > 0, "discard out of range")
                    start += consumed
                    discard = remaining
                case .quit, .lineTooLong:
                    return 0
                }
                precondition(auth.failures < AuthState.maxFailures, "a third failure did not close")
            }
            output.removeAll(keepingCapacity: true)
        }
        input.removeFirst(start)
    }
    return 0
}
