import CarriageStore

/// Runs requests of memcached's text protocol (1.6's `protocol.txt`) against the shared
/// store, replying byte for byte as memcached does.
///
/// One processor serves every memcached connection and worker thread at once: it keeps no
/// state of its own beyond the store and the environment, both thread-safe. Keys are
/// 1 to 250 bytes without spaces, as memcached takes them; values are any bytes.
public final class MemcachedProcessor: Sendable {
    let store: Store
    let environment: any ServerEnvironment
    private let maxLineBytes: Int
    let maxItemSize: Int

    static let maxKeyLength = 250
    /// memcached's exptime: up to 30 days is relative, beyond it an absolute unix time.
    static let relativeExpiryLimit: Int64 = 60 * 60 * 24 * 30
    static let cr = UInt8(ascii: "\r")
    static let lf = UInt8(ascii: "\n")

    /// - Parameters:
    ///   - maxLineBytes: the longest command line taken; longer is an error, then a close.
    ///   - maxItemSize: the largest value taken; a larger one is refused and its data dropped.
    public init(store: Store, environment: any ServerEnvironment, maxLineBytes: Int, maxItemSize: Int) {
        self.store = store
        self.environment = environment
        self.maxLineBytes = maxLineBytes
        self.maxItemSize = maxItemSize
    }

    /// Runs the first request in `bytes` if it is complete (its line and, for a storage
    /// command, its data block), appending its reply to `output`.
    package func process(_ bytes: ArraySlice<UInt8>, output: inout [UInt8]) -> MemcachedStep {
        let line: ArraySlice<UInt8>
        let request: Request
        switch frame(bytes, output: &output) {
        case .step(let step): return step
        case .line(let framed, let framedRequest): (line, request) = (framed, framedRequest)
        }
        var tokens = MemcachedTokens(line)
        guard let command = tokens.next() else { return request.reply(MemcachedReply.error, to: &output) }
        switch command.count {
        case 2:
            switch (command[command.startIndex], command[command.startIndex + 1]) {
            case (UInt8(ascii: "m"), UInt8(ascii: "g")): return metaGet(&tokens, request, &output)
            case (UInt8(ascii: "m"), UInt8(ascii: "s")): return metaSet(&tokens, request, &output)
            case (UInt8(ascii: "m"), UInt8(ascii: "d")): return metaDelete(&tokens, request, &output)
            case (UInt8(ascii: "m"), UInt8(ascii: "a")): return metaArithmetic(&tokens, request, &output)
            case (UInt8(ascii: "m"), UInt8(ascii: "n")):
                output.append(static: "MN\r\n")
                return request.done
            default: break
            }
        default: break
        }
        if command.equals("get") { return retrieve(&tokens, request, &output, cas: false, touch: false) }
        if command.equals("gets") { return retrieve(&tokens, request, &output, cas: true, touch: false) }
        if command.equals("gat") { return retrieve(&tokens, request, &output, cas: false, touch: true) }
        if command.equals("gats") { return retrieve(&tokens, request, &output, cas: true, touch: true) }
        if command.equals("set") { return storage(&tokens, request, &output, mode: .set, cas: false) }
        if command.equals("add") { return storage(&tokens, request, &output, mode: .add, cas: false) }
        if command.equals("replace") { return storage(&tokens, request, &output, mode: .replace, cas: false) }
        if command.equals("append") { return storage(&tokens, request, &output, mode: .append, cas: false) }
        if command.equals("prepend") { return storage(&tokens, request, &output, mode: .prepend, cas: false) }
        if command.equals("cas") { return storage(&tokens, request, &output, mode: .set, cas: true) }
        if command.equals("delete") { return delete(&tokens, request, &output) }
        if command.equals("incr") { return arithmetic(&tokens, request, &output, decrement: false) }
        if command.equals("decr") { return arithmetic(&tokens, request, &output, decrement: true) }
        if command.equals("touch") { return touch(&tokens, request, &output) }
        if command.equals("flush_all") { return flushAll(&tokens, request, &output) }
        if command.equals("version") {
            output.append(static: "VERSION ")
            output.append(contentsOf: MemcachedReply.versionNumber)
            return request.reply("\r\n", to: &output)
        }
        if command.equals("verbosity") {
            let count = tokens.remaining
            guard count == 1 || count == 2 else { return request.reply(MemcachedReply.error, to: &output) }
            _ = tokens.next()
            let noreply = tokens.next()?.equals("noreply") ?? false
            return request.reply(MemcachedReply.ok, to: &output, unless: noreply)
        }
        if command.equals("stats") { return stats(&tokens, request, &output) }
        if command.equals("quit") { return .quit }
        return request.reply(MemcachedReply.error, to: &output)
    }

    /// The command line at the start of some bytes, or what to do without one.
    enum Framed {
        /// The line, without CR LF, and where it ends.
        case line(ArraySlice<UInt8>, Request)
        /// No complete line yet (`incomplete`), or one too long (its reply appended).
        case step(MemcachedStep)
    }

    /// Finds the command line at the start of `bytes`: up to LF, a CR before it dropped,
    /// at most `maxLineBytes`.
    func frame(_ bytes: ArraySlice<UInt8>, output: inout [UInt8]) -> Framed {
        guard let newline = bytes.firstIndex(ofByte: Self.lf) else {
            guard bytes.count <= maxLineBytes + 1 else {
                output.append(static: MemcachedReply.lineTooLong)
                return .step(.lineTooLong)
            }
            return .step(.incomplete)
        }
        var lineEnd = newline
        if lineEnd > bytes.startIndex && bytes[lineEnd - 1] == Self.cr { lineEnd -= 1 }
        let line = bytes[bytes.startIndex..<lineEnd]
        guard line.count <= maxLineBytes else {
            output.append(static: MemcachedReply.lineTooLong)
            return .step(.lineTooLong)
        }
        return .line(line, Request(bytes: bytes, lineEnd: newline + 1))
    }

    /// Where a request's line ends in the bytes given to `process`.
    struct Request {
        let bytes: ArraySlice<UInt8>
        /// Index just past the line's LF.
        let lineEnd: Int

        var done: MemcachedStep { .ran(consumed: lineEnd - bytes.startIndex) }

        func reply(_ text: StaticString, to output: inout [UInt8], unless quiet: Bool = false) -> MemcachedStep {
            if !quiet { output.append(static: text) }
            return done
        }
    }

    // MARK: Storage

    private func storage(
        _ tokens: inout MemcachedTokens, _ request: Request, _ output: inout [UInt8],
        mode: StoreWriteMode, cas: Bool
    ) -> MemcachedStep {
        let count = tokens.remaining
        let required = cas ? 5 : 4
        guard count == required || count == required + 1,
              let key = tokens.next(), let flagsToken = tokens.next(), let exptimeToken = tokens.next(),
              let lengthToken = tokens.next()
        else { return request.reply(MemcachedReply.error, to: &output) }
        let casToken = cas ? tokens.next() : nil
        let noreply = tokens.next()?.equals("noreply") ?? false
        guard key.count <= Self.maxKeyLength,
              let flags = flagsToken.unsignedValue, flags <= UInt64(UInt32.max),
              let exptime = exptimeToken.signedValue,
              let length = lengthToken.signedValue, length >= 0, length <= Int64(Int32.max) - 2
        else { return request.reply(MemcachedReply.badFormat, to: &output) }
        var compareCAS: UInt64?
        if let casToken {
            guard let value = casToken.unsignedValue else { return request.reply(MemcachedReply.badFormat, to: &output) }
            compareCAS = value
        }
        return withDataBlock(length: Int(length), request, &output, noreply: noreply) { data, output in
            do throws(StoreError) {
                let result = try store.store(
                    data, forKey: key, flags: UInt32(flags), expiry: expiry(exptime), mode: mode, compareCAS: compareCAS)
                guard !noreply else { return }
                switch result {
                case .stored: output.append(static: MemcachedReply.stored)
                case .notStored: output.append(static: MemcachedReply.notStored)
                case .exists: output.append(static: MemcachedReply.exists)
                case .notFound: output.append(static: MemcachedReply.notFound)
                }
            } catch {
                if !noreply { output.append(static: MemcachedReply.outOfMemory) }
            }
        }
    }

    /// Frames the data block of `length` bytes after the request's line, and runs `body`
    /// on it once it has all arrived: memcached reads exactly `length + 2` bytes and checks
    /// that the last two are CR LF. A block over `maxItemSize` is refused and dropped.
    func withDataBlock(
        length: Int, _ request: Request, _ output: inout [UInt8], noreply: Bool,
        _ body: (ArraySlice<UInt8>, inout [UInt8]) -> Void
    ) -> MemcachedStep {
        let bytes = request.bytes
        let total = length + 2
        let available = bytes.endIndex - request.lineEnd
        guard length <= maxItemSize else {
            if !noreply { output.append(static: MemcachedReply.tooLarge) }
            let lineBytes = request.lineEnd - bytes.startIndex
            if available >= total { return .ran(consumed: lineBytes + total) }
            return .discard(consumed: lineBytes + available, remaining: total - available)
        }
        guard available >= total else { return .incomplete }
        let dataEnd = request.lineEnd + length
        let consumed = dataEnd + 2 - bytes.startIndex
        guard bytes[dataEnd] == Self.cr && bytes[dataEnd + 1] == Self.lf else {
            if !noreply { output.append(static: MemcachedReply.badDataChunk) }
            return .ran(consumed: consumed)
        }
        body(bytes[request.lineEnd..<dataEnd], &output)
        return .ran(consumed: consumed)
    }

    /// memcached's exptime: 0 never; up to 30 days, seconds from now; beyond, a unix time;
    /// negative, already expired.
    func expiry(_ exptime: Int64) -> StoreExpiry {
        if exptime == 0 { return .never }
        if exptime < 0 { return .afterSeconds(-1) }
        if exptime <= Self.relativeExpiryLimit { return .afterSeconds(exptime) }
        let (relative, overflow) = exptime.subtractingReportingOverflow(Int64(environment.unixTime()))
        return .afterSeconds(overflow ? -1 : max(relative, -1))
    }

    // MARK: Retrieval

    private func retrieve(
        _ tokens: inout MemcachedTokens, _ request: Request, _ output: inout [UInt8], cas: Bool, touch: Bool
    ) -> MemcachedStep {
        var touching: StoreExpiry?
        if touch {
            guard let token = tokens.next() else { return request.reply(MemcachedReply.error, to: &output) }
            guard let exptime = token.signedValue else { return request.reply(MemcachedReply.badExptime, to: &output) }
            touching = expiry(exptime)
        }
        var check = tokens
        var keys = 0
        while let key = check.next() {
            guard key.count <= Self.maxKeyLength else { return request.reply(MemcachedReply.badFormat, to: &output) }
            keys += 1
        }
        guard keys > 0 else { return request.reply(MemcachedReply.error, to: &output) }
        while let key = tokens.next() {
            let found = store.read(key, into: &output, headerRoom: key.count + 64, touching: touching) { item, output in
                output.append(static: "VALUE ")
                output.append(contentsOf: key)
                output.append(UInt8(ascii: " "))
                DecimalInteger.append(unsigned: UInt64(item.flags), to: &output)
                output.append(UInt8(ascii: " "))
                DecimalInteger.append(item.valueCount, to: &output)
                if cas {
                    output.append(UInt8(ascii: " "))
                    DecimalInteger.append(unsigned: item.cas, to: &output)
                }
                output.append(static: "\r\n")
            }
            if found != nil { output.append(static: "\r\n") }
        }
        output.append(static: MemcachedReply.end)
        return request.done
    }

    // MARK: Other commands

    private func delete(_ tokens: inout MemcachedTokens, _ request: Request, _ output: inout [UInt8]) -> MemcachedStep {
        let count = tokens.remaining
        guard let key = tokens.next() else { return request.reply(MemcachedReply.error, to: &output) }
        var noreply = false
        if count > 1 {
            let first = tokens.next() ?? []
            let second = tokens.next()
            let holdIsZero = first.equals("0")
            noreply = (count == 2 ? first : (second ?? [])).equals("noreply")
            let valid = (count == 2 && (holdIsZero || noreply)) || (count == 3 && holdIsZero && noreply)
            guard valid else { return request.reply(MemcachedReply.deleteUsage, to: &output) }
        }
        guard key.count <= Self.maxKeyLength else { return request.reply(MemcachedReply.badFormat, to: &output) }
        let removed = store.removeValue(forKey: key)
        return request.reply(removed ? MemcachedReply.deleted : MemcachedReply.notFound, to: &output, unless: noreply)
    }

    private func arithmetic(
        _ tokens: inout MemcachedTokens, _ request: Request, _ output: inout [UInt8], decrement: Bool
    ) -> MemcachedStep {
        let count = tokens.remaining
        guard count == 2 || count == 3, let key = tokens.next(), let deltaToken = tokens.next() else {
            return request.reply(MemcachedReply.error, to: &output)
        }
        let noreply = tokens.next()?.equals("noreply") ?? false
        guard key.count <= Self.maxKeyLength else { return request.reply(MemcachedReply.badFormat, to: &output) }
        guard let delta = deltaToken.unsignedValue else { return request.reply(MemcachedReply.badDelta, to: &output) }
        let result: StoreArithmeticResult
        do throws(StoreError) {
            result = try store.adjust(key, by: delta, decrement: decrement)
        } catch {
            return request.reply(MemcachedReply.outOfMemory, to: &output, unless: noreply)
        }
        guard !noreply else { return request.done }
        switch result {
        case .value(let value, _):
            DecimalInteger.append(unsigned: value, to: &output)
            output.append(static: "\r\n")
        case .notFound, .exists:
            output.append(static: MemcachedReply.notFound)
        case .notNumeric:
            output.append(static: MemcachedReply.nonNumeric)
        }
        return request.done
    }

    private func touch(_ tokens: inout MemcachedTokens, _ request: Request, _ output: inout [UInt8]) -> MemcachedStep {
        let count = tokens.remaining
        guard count == 2 || count == 3, let key = tokens.next(), let exptimeToken = tokens.next() else {
            return request.reply(MemcachedReply.error, to: &output)
        }
        let noreply = tokens.next()?.equals("noreply") ?? false
        guard key.count <= Self.maxKeyLength else { return request.reply(MemcachedReply.badFormat, to: &output) }
        guard let exptime = exptimeToken.signedValue else { return request.reply(MemcachedReply.badExptime, to: &output) }
        let found: Bool
        do throws(StoreError) {
            found = try store.touch(key, expiry: expiry(exptime))
        } catch {
            return request.reply(MemcachedReply.outOfMemory, to: &output, unless: noreply)
        }
        return request.reply(found ? MemcachedReply.touched : MemcachedReply.notFound, to: &output, unless: noreply)
    }

    private func flushAll(_ tokens: inout MemcachedTokens, _ request: Request, _ output: inout [UInt8]) -> MemcachedStep {
        let count = tokens.remaining
        guard count <= 2 else { return request.reply(MemcachedReply.error, to: &output) }
        var delay: Int64 = 0
        var noreply = false
        if let first = tokens.next() {
            if first.equals("noreply") && count == 1 {
                noreply = true
            } else {
                guard let value = first.signedValue else { return request.reply(MemcachedReply.badFormat, to: &output) }
                delay = value
                noreply = tokens.next()?.equals("noreply") ?? false
            }
        }
        switch expiry(delay) {
        case .never: store.flushAll()
        case .afterSeconds(let seconds): store.flushAll(afterSeconds: Int(clamping: seconds))
        }
        return request.reply(MemcachedReply.ok, to: &output, unless: noreply)
    }

    private func stats(_ tokens: inout MemcachedTokens, _ request: Request, _ output: inout [UInt8]) -> MemcachedStep {
        // Only the general statistics; memcached's sub-reports (`stats slabs`, ...) describe
        // its own allocator.
        guard tokens.next() == nil else { return request.reply(MemcachedReply.error, to: &output) }
        var server: [String: Int] = [:]
        for stat in environment.serverStats() { server[stat.name] = stat.value }
        let totals = store.statistics
        func stat(_ name: StaticString, _ value: Int) {
            output.append(static: "STAT ")
            output.append(static: name)
            output.append(UInt8(ascii: " "))
            DecimalInteger.append(value, to: &output)
            output.append(static: "\r\n")
        }
        stat("pid", server["pid"] ?? 0)
        stat("uptime", server["uptime_seconds"] ?? 0)
        stat("time", environment.unixTime())
        output.append(static: "STAT version ")
        output.append(contentsOf: MemcachedReply.versionNumber)
        output.append(static: "\r\n")
        stat("pointer_size", 64)
        stat("curr_connections", server["connections_current"] ?? 0)
        stat("total_connections", server["connections_total"] ?? 0)
        stat("rejected_connections", server["connections_rejected"] ?? 0)
        stat("cmd_get", totals.hits + totals.misses)
        stat("cmd_set", totals.writes)
        stat("get_hits", totals.hits)
        stat("get_misses", totals.misses)
        stat("curr_items", totals.keys)
        stat("total_items", totals.itemsStored)
        stat("evictions", totals.evictions)
        stat("expired", totals.expired)
        stat("bytes", totals.bytesStored)
        stat("memory_used", store.memoryUsed)
        stat("limit_maxbytes", store.maxMemoryBytes)
        stat("threads", server["workers"] ?? 0)
        output.append(static: MemcachedReply.end)
        return request.done
    }
}
