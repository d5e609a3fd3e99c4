import Glibc

/// What a non-blocking call did: it finished with a value, or it would have blocked.
@usableFromInline
package enum IOResult<Value> {
    case done(Value)
    case wouldBlock
}

/// Runs one system call that returns -1 and sets `errno` on failure: retries `EINTR`,
/// turns `EAGAIN`/`EWOULDBLOCK` into `.wouldBlock`, and throws any other errno as a
/// ``SystemError`` naming `call`. The only place the project reads `errno` after a
/// call (libevent's and getaddrinfo's own error reports aside).
///
/// `startsInBackground`: for a non-blocking `connect`, where EINPROGRESS means "under
/// way" (`.wouldBlock`) and an interrupted call goes on in the background too, so it
/// must not be made again (that would say EALREADY).
///
/// `@inlinable`, as the socket calls below: they run per request in other modules, and
/// must compile there to the call itself, specialized.
@inlinable @inline(__always)
package func syscall<T: FixedWidthInteger>(
    _ call: StaticString, startsInBackground: Bool = false, _ body: () -> T
) throws(SystemError) -> IOResult<T> {
    while true {
        let result = body()
        if result != -1 { return .done(result) }
        let error = Glibc.errno
        switch error {
        case EINTR:
            if startsInBackground { return .wouldBlock }
            continue
        case EAGAIN, EWOULDBLOCK: return .wouldBlock
        case EINPROGRESS where startsInBackground: return .wouldBlock
        default: throw SystemError(call: "\(call)", errno: error)
        }
    }
}

/// For calls that never block: like ``syscall(_:_:)`` but a would-block is an error too.
@inlinable @inline(__always)
package func syscallBlocking<T: FixedWidthInteger>(_ call: StaticString, _ body: () -> T) throws(SystemError) -> T {
    switch try syscall(call, body) {
    case .done(let value): return value
    case .wouldBlock: throw SystemError(call: "\(call)", errno: EAGAIN)
    }
}

/// The last `errno`, for the few C APIs that report failure by a null pointer rather
/// than -1 (libevent's constructors): read once, right after the call.
package func lastErrno(_ call: StaticString) -> SystemError {
    SystemError(call: "\(call)", errno: Glibc.errno)
}
