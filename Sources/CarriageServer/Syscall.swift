import Glibc

/// What a non-blocking call did: it finished with a value, or it would have blocked.
enum IOResult<Value> {
    case done(Value)
    case wouldBlock
}

/// Runs one system call that returns -1 and sets `errno` on failure: retries `EINTR`,
/// turns `EAGAIN`/`EWOULDBLOCK` into `.wouldBlock`, and throws any other errno as a
/// ``SystemError`` naming `call`. The only place the server reads `errno`.
@inline(__always)
func syscall<T: FixedWidthInteger>(_ call: StaticString, _ body: () -> T) throws(SystemError) -> IOResult<T> {
    while true {
        let result = body()
        if result != -1 { return .done(result) }
        let error = Glibc.errno
        switch error {
        case EINTR: continue
        case EAGAIN, EWOULDBLOCK: return .wouldBlock
        default: throw SystemError(call: "\(call)", errno: error)
        }
    }
}

/// For calls that never block: like ``syscall(_:_:)`` but a would-block is an error too.
@inline(__always)
func syscallBlocking<T: FixedWidthInteger>(_ call: StaticString, _ body: () -> T) throws(SystemError) -> T {
    switch try syscall(call, body) {
    case .done(let value): return value
    case .wouldBlock: throw SystemError(call: "\(call)", errno: EAGAIN)
    }
}
