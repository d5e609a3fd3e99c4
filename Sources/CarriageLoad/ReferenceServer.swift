import CarriageProtocol
import CarriageStore

/// The server's own request code, run at start-up on a scratch store: the load tool
/// learns the exact reply of a request whose reply depends on nothing but the request
/// (`PING`, `ECHO`, `CAP`, `SET`...) from the code that makes it, so the two cannot
/// disagree.
enum ReferenceServer {
    /// No threads, no statistics, and `SLEEP` returns at once.
    private struct Environment: ServerEnvironment {
        func threadDescription() -> String { "" }
        func serverStats() -> [(name: String, value: Int)] { [] }
        func block(milliseconds: Int) {}
        func unixTime() -> Int { 0 }
    }

    /// The reply lines to `line` (no terminator) from a new, empty store, each with its LF.
    static func reply(to line: [UInt8]) -> [UInt8] {
        let processor = CommandProcessor(store: Store(maxMemoryBytes: 1 << 20), environment: Environment())
        var output: [UInt8] = []
        _ = processor.execute(line: line[...], output: &output)
        return output
    }
}
