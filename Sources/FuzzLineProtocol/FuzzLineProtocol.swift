// The fuzz target: the line protocol, framing and execution, against a real Store.
// Built by scripts/fuzz.sh with -sanitize=fuzzer,address and -parse-as-library (libFuzzer
// supplies main). Lines are framed as the server's worker frames them (LF, CR before it
// dropped, over-long lines refused), then run by the server's CommandProcessor.
import CarriageProtocol
import CarriageStore
import FuzzSupport

private let store = Store(maxMemoryBytes: 4 << 20, eviction: .lru, shardCount: 4)
private let processor = CommandProcessor(store: store, environment: FuzzEnvironment())
private let maxLineBytes = 4096

/// One input: the bytes a client sends.
func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    var output: [UInt8] = []
    var start = 0
    while start < bytes.count {
        let end = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
        var line = Array(bytes[start..<end])
        start = end + 1
        if line.last == UInt8(ascii: "\r") { line.removeLast() }
        guard !line.isEmpty, line.count <= maxLineBytes else { continue }
        if line.starts(with: Array("SLEEP".utf8)) || line.starts(with: Array("sleep".utf8)) { continue }
        let before = output.count
        _ = processor.execute(line: line[...], output: &output)
        precondition(output.count > before && output.last == UInt8(ascii: "\n"), "every request gets a reply line")
        output.removeAll(keepingCapacity: true)
    }
    precondition(store.memoryUsed <= store.maxMemoryBytes, "the memory bound was crossed")
    return 0
}
