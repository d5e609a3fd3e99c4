import CarriageStore

/// memcached's meta commands: `mg`, `ms`, `md`, `ma` (and `mn` in `process`).
extension MemcachedProcessor {
    /// What a meta reply echoes of an item; nil fields are not known for that reply.
    private struct Echo {
        var cas: UInt64?
        var flags: UInt32?
        var size: Int?
        /// Seconds left; nil for never, not asked for when `hasTTL` is false.
        var secondsLeft: Int?
        var hasTTL = false
    }

    /// Appends ` <flag><value>` for each return flag in `flags` that `echo` can answer, in
    /// the order the client sent them, plus `k` and `O`, which every reply can.
    private func appendReturnFlags(
        _ flags: MetaFlags, key: ArraySlice<UInt8>, _ echo: Echo, to output: inout [UInt8]
    ) {
        var tokens = flags.tokens
        while let token = tokens.next() {
            switch token[token.startIndex] {
            case UInt8(ascii: "k"):
                output.append(static: " k")
                output.append(contentsOf: key)
            case UInt8(ascii: "O"):
                output.append(UInt8(ascii: " "))
                output.append(contentsOf: flags.opaque)
            case UInt8(ascii: "c"):
                guard let cas = echo.cas else { continue }
                output.append(static: " c")
                DecimalInteger.append(unsigned: cas, to: &output)
            case UInt8(ascii: "f"):
                guard let value = echo.flags else { continue }
                output.append(static: " f")
                DecimalInteger.append(unsigned: UInt64(value), to: &output)
            case UInt8(ascii: "s"):
                guard let size = echo.size else { continue }
                output.append(static: " s")
                DecimalInteger.append(size, to: &output)
            case UInt8(ascii: "t"):
                guard echo.hasTTL else { continue }
                output.append(static: " t")
                DecimalInteger.append(echo.secondsLeft ?? -1, to: &output)
            default:
                continue
            }
        }
    }

    /// The key of a meta command and its parsed flags, or the error reply.
    private func metaKeyAndFlags(
        _ tokens: inout MemcachedTokens, allowed: StaticString, _ output: inout [UInt8]
    ) -> (key: ArraySlice<UInt8>, flags: MetaFlags)? {
        guard let key = tokens.next(), key.count <= Self.maxKeyLength else {
            output.append(static: MemcachedReply.badFormat)
            return nil
        }
        return metaFlags(tokens, allowed: allowed, &output).map { (key, $0) }
    }

    /// The parsed flags, or nil with the error reply appended.
    private func metaFlags(_ tokens: MemcachedTokens, allowed: StaticString, _ output: inout [UInt8]) -> MetaFlags? {
        do throws(MetaFlags.Failure) {
            return try MetaFlags(tokens, allowed: allowed)
        } catch {
            switch error {
            case .invalidFlag: output.append(static: MemcachedReply.invalidFlag)
            case .badToken: output.append(static: "CLIENT_ERROR bad token in command line format\r\n")
            case .opaqueTooLong: output.append(static: MemcachedReply.opaqueTooLong)
            }
            return nil
        }
    }

    /// A status line: `code`, the echoed flags, CR LF.
    private func appendStatus(
        _ code: StaticString, _ flags: MetaFlags, key: ArraySlice<UInt8>, _ echo: Echo, to output: inout [UInt8]
    ) {
        output.append(static: code)
        appendReturnFlags(flags, key: key, echo, to: &output)
        output.append(static: "\r\n")
    }

    // MARK: mg

    func metaGet(_ tokens: inout MemcachedTokens, _ request: Request, _ output: inout [UInt8]) -> MemcachedStep {
        guard let (key, flags) = metaKeyAndFlags(&tokens, allowed: "cfkOqstuvNT", &output) else { return request.done }
        let touching = flags.ttl.map(expiry)
        for _ in 0..<2 {
            let found = store.read(
                key, into: &output, headerRoom: key.count + flags.opaque.count + 96, touching: touching,
                withValue: flags.value, claimingWin: true
            ) { item, output in
                if flags.value {
                    output.append(static: "VA ")
                    DecimalInteger.append(item.valueCount, to: &output)
                } else {
                    output.append(static: "HD")
                }
                let echo = Echo(
                    cas: item.cas, flags: item.flags, size: item.valueCount, secondsLeft: item.secondsLeft, hasTTL: true)
                appendReturnFlags(flags, key: key, echo, to: &output)
                if item.marks.contains(.winSent) && !item.won { output.append(static: " Z") }
                if item.marks.contains(.stale) { output.append(static: " X") }
                if item.won { output.append(static: " W") }
                output.append(static: "\r\n")
            }
            if found != nil {
                if flags.value { output.append(static: "\r\n") }
                return request.done
            }
            guard let vivify = flags.vivify else { break }
            // A miss with N: create an empty item; whoever creates it wins the recache.
            let result: StoreWriteResult
            do throws(StoreError) {
                result = try store.store([], forKey: key, expiry: expiry(vivify), mode: .add, marks: [.winSent])
            } catch {
                output.append(static: MemcachedReply.outOfMemory)
                return request.done
            }
            guard case .stored(let cas) = result else { continue }  // another client made it: read it
            output.append(static: flags.value ? "VA 0" : "HD")
            let secondsLeft = vivify > 0 && vivify <= Self.relativeExpiryLimit ? Int(vivify) : nil
            appendReturnFlags(flags, key: key, Echo(cas: cas, flags: 0, size: 0, secondsLeft: secondsLeft, hasTTL: true), to: &output)
            output.append(static: flags.value ? " W\r\n\r\n" : " W\r\n")
            return request.done
        }
        if !flags.quiet { appendStatus("EN", flags, key: key, Echo(), to: &output) }
        return request.done
    }

    // MARK: ms

    func metaSet(_ tokens: inout MemcachedTokens, _ request: Request, _ output: inout [UInt8]) -> MemcachedStep {
        guard let key = tokens.next(), let lengthToken = tokens.next(), key.count <= Self.maxKeyLength,
              let length = lengthToken.signedValue, length >= 0, length <= Int64(Int32.max) - 2
        else { return request.reply(MemcachedReply.badFormat, to: &output) }
        // Once the length is known, memcached drops the data block of a refused `ms`.
        let refused = { (output: inout [UInt8]) in
            self.withDataBlock(length: Int(length), request, &output, noreply: true) { _, _ in }
        }
        guard let flags = metaFlags(tokens, allowed: "cCFIkOqTM", &output) else { return refused(&output) }
        let mode: StoreWriteMode
        switch flags.mode {
        case nil, UInt8(ascii: "S"), UInt8(ascii: "s"): mode = .set
        case UInt8(ascii: "E"), UInt8(ascii: "e"): mode = .add
        case UInt8(ascii: "A"), UInt8(ascii: "a"): mode = .append
        case UInt8(ascii: "P"), UInt8(ascii: "p"): mode = .prepend
        case UInt8(ascii: "R"), UInt8(ascii: "r"): mode = .replace
        default:
            output.append(static: "CLIENT_ERROR invalid mode for ms M token\r\n")
            return refused(&output)
        }
        return withDataBlock(length: Int(length), request, &output, noreply: false) { data, output in
            let result: StoreWriteResult
            do throws(StoreError) {
                result = try store.store(
                    data, forKey: key, flags: flags.clientFlags ?? 0, expiry: flags.ttl.map(expiry) ?? .never,
                    mode: mode, compareCAS: flags.compareCAS, invalidateIfOlder: flags.invalidate)
            } catch {
                output.append(static: MemcachedReply.outOfMemory)
                return
            }
            switch result {
            case .stored(let cas):
                if !flags.quiet { appendStatus("HD", flags, key: key, Echo(cas: cas), to: &output) }
            case .notStored: appendStatus("NS", flags, key: key, Echo(), to: &output)
            case .exists: appendStatus("EX", flags, key: key, Echo(), to: &output)
            case .notFound: appendStatus("NF", flags, key: key, Echo(), to: &output)
            }
        }
    }

    // MARK: md

    func metaDelete(_ tokens: inout MemcachedTokens, _ request: Request, _ output: inout [UInt8]) -> MemcachedStep {
        guard let (key, flags) = metaKeyAndFlags(&tokens, allowed: "CIkOqT", &output) else { return request.done }
        let result: StoreWriteResult
        do throws(StoreError) {
            result = try store.delete(
                key, compareCAS: flags.compareCAS, invalidate: flags.invalidate,
                expiry: flags.invalidate ? flags.ttl.map(expiry) : nil)
        } catch {
            return request.reply(MemcachedReply.outOfMemory, to: &output)
        }
        switch result {
        case .stored: if !flags.quiet { appendStatus("HD", flags, key: key, Echo(), to: &output) }
        case .notFound, .notStored: appendStatus("NF", flags, key: key, Echo(), to: &output)
        case .exists: appendStatus("EX", flags, key: key, Echo(), to: &output)
        }
        return request.done
    }

    // MARK: ma

    func metaArithmetic(_ tokens: inout MemcachedTokens, _ request: Request, _ output: inout [UInt8]) -> MemcachedStep {
        guard let (key, flags) = metaKeyAndFlags(&tokens, allowed: "CNJDTMqtcvOk", &output) else { return request.done }
        let decrement: Bool
        switch flags.mode {
        case nil, UInt8(ascii: "I"), UInt8(ascii: "i"), UInt8(ascii: "+"): decrement = false
        case UInt8(ascii: "D"), UInt8(ascii: "d"), UInt8(ascii: "-"): decrement = true
        default: return request.reply("CLIENT_ERROR invalid mode for ma M token\r\n", to: &output)
        }
        let result: StoreArithmeticResult
        do throws(StoreError) {
            result = try store.adjust(
                key, by: flags.delta ?? 1, decrement: decrement, compareCAS: flags.compareCAS,
                create: flags.vivify.map { (flags.initial ?? 0, expiry($0)) })
            if case .value = result, let ttl = flags.ttl { try store.touch(key, expiry: expiry(ttl)) }
        } catch {
            return request.reply(MemcachedReply.outOfMemory, to: &output)
        }
        switch result {
        case .value(let value, let cas):
            var echo = Echo(cas: cas)
            echo.hasTTL = true
            if case .seconds(let left) = store.timeToLive(key) { echo.secondsLeft = left }
            if flags.value {
                output.append(static: "VA ")
                DecimalInteger.append(DecimalInteger.length(ofUnsigned: value), to: &output)
                appendReturnFlags(flags, key: key, echo, to: &output)
                output.append(static: "\r\n")
                DecimalInteger.append(unsigned: value, to: &output)
                output.append(static: "\r\n")
            } else if !flags.quiet {
                appendStatus("HD", flags, key: key, echo, to: &output)
            }
        case .notFound: appendStatus("NF", flags, key: key, Echo(), to: &output)
        case .exists: appendStatus("EX", flags, key: key, Echo(), to: &output)
        case .notNumeric: output.append(static: MemcachedReply.nonNumeric)
        }
        return request.done
    }
}
