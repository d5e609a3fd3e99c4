extension MemcachedProcessor {
    /// The largest login data block taken (`user password`); a longer one is refused as
    /// a bad token, its bytes dropped unread.
    static let maxAuthTokenBytes = 1024

    /// Runs the first request in `bytes` for a connection that has not logged in yet,
    /// as memcached 1.6 with `-Y` does: the login is a `set` (any key, flags and exptime)
    /// whose data is `user password`: `STORED` (even with `noreply`), else
    /// `CLIENT_ERROR authentication failure` (the third closes the connection) or
    /// `CLIENT_ERROR bad authentication token format`. Every other command gets
    /// `CLIENT_ERROR unauthenticated`. What the caller should log and count is in
    /// `auth`'s change.
    package func processBeforeAuth(
        _ bytes: ArraySlice<UInt8>, auth: inout AuthState, credentials: Credentials, output: inout [UInt8]
    ) -> MemcachedStep {
        let request: Request
        var tokens: MemcachedTokens
        switch frame(bytes, output: &output) {
        case .step(let step): return step
        case .line(let line, let framed): (tokens, request) = (MemcachedTokens(line), framed)
        }
        guard tokens.next()?.equals("set") == true else {
            return request.reply(MemcachedReply.unauthenticated, to: &output)
        }
        let count = tokens.remaining
        guard count == 4 || count == 5 else { return request.reply(MemcachedReply.unauthenticated, to: &output) }
        for _ in 0..<3 { _ = tokens.next() }  // key, flags and exptime: ignored
        guard let length = tokens.next()?.signedValue, length >= 0 else {
            return request.reply(MemcachedReply.unauthenticated, to: &output)  // as memcached
        }
        let total = Int(min(length, Int64(Int32.max))) + 2
        let available = bytes.endIndex - request.lineEnd
        let lineBytes = request.lineEnd - bytes.startIndex
        guard length <= Self.maxAuthTokenBytes else {
            output.append(static: MemcachedReply.badAuthToken)
            if available >= total { return .ran(consumed: lineBytes + total) }
            return .discard(consumed: lineBytes + available, remaining: total - available)
        }
        guard available >= total else { return .incomplete }
        let dataEnd = request.lineEnd + Int(length)
        let consumed = lineBytes + total
        guard bytes[dataEnd] == Self.cr && bytes[dataEnd + 1] == Self.lf else {
            output.append(static: MemcachedReply.unauthenticated)  // as memcached
            return .ran(consumed: consumed)
        }
        // `user password`: memcached takes the first two space-separated tokens.
        var token = MemcachedTokens(bytes[request.lineEnd..<dataEnd])
        guard let user = token.next(), let password = token.next() else {
            output.append(static: MemcachedReply.badAuthToken)
            return .ran(consumed: consumed)
        }
        guard credentials.verify(user: user, password: password) else {
            output.append(static: MemcachedReply.authFailure)
            return auth.fail() ? .quit : .ran(consumed: consumed)
        }
        auth.isAuthenticated = true
        output.append(static: MemcachedReply.stored)
        return .ran(consumed: consumed)
    }
}
