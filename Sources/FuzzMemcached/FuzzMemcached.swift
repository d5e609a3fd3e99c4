// The fuzz target: memcached's protocol, framing and execution, against a real Store.
// Built by scripts/fuzz.sh with -sanitize=fuzzer,address and -parse-as-library (libFuzzer
// supplies main). The input is split into chunks the way a socket delivers bytes, and run
// through the same loop the server's worker runs, so partial requests, data blocks and
// too-large blocks are all exercised.
import CarriageProtocol
import CarriageStore
import FuzzSupport

/// One store and processor for the whole run, as the server has: state carries over
/// between inputs, so sequences of commands are fuzzed too. Small, so eviction runs.
private let store = Store(maxMemoryBytes: 4 << 20, eviction: .lru, shardCount: 4)
private let processor = MemcachedProcessor(
    store: store, environment: FuzzEnvironment(), maxLineBytes: 4096, maxItemSize: 64 << 10)

/// One input: the bytes a client sends.
func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    // The first byte picks how the rest arrives: in one piece or in chunks of 1 to 255.
    let chunk = max(1, Int(bytes.first ?? 0))
    var input: [UInt8] = []
    var output: [UInt8] = []
    var discard = 0
    var offset = 1
    while offset < bytes.count {
        let end = min(bytes.count, offset + chunk)
        var arrived = bytes[offset..<end]
        offset = end
        let dropped = min(discard, arrived.count)
        discard -= dropped
        arrived = arrived.dropFirst(dropped)
        input.append(contentsOf: arrived)
        var start = 0
        run: while start < input.count {
            switch processor.process(input[start...], output: &output) {
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
        }
        input.removeFirst(start)
        output.removeAll(keepingCapacity: true)
    }
    precondition(store.memoryUsed <= store.maxMemoryBytes, "the memory bound was crossed")
    return 0
}
