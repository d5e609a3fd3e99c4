import CarriagePosix
import Synchronization

/// The TLS context new connections are made with; SIGHUP replaces it from the same
/// files, and connections keep the one they were made with.
///
/// `Sendable`: the context is behind a mutex, held only to copy or swap the reference.
final class TLSCertificates: Sendable {
    let configuration: TLSConfiguration
    private let current: Mutex<TLSContext>

    init(_ configuration: TLSConfiguration) throws(TLSError) {
        self.configuration = configuration
        current = Mutex(try Self.load(configuration))
    }

    /// What a new TLS session starts from.
    var context: TLSContext { current.withLock { $0 } }

    /// Loads the files again; on failure the old context stays and the error says why.
    func reload() throws(TLSError) {
        let replacement = try Self.load(configuration)
        let old = current.withLock { context in
            let old = context
            context = replacement
            return old
        }
        _ = old  // released here, outside the lock (it frees the SSL_CTX if no session holds it)
    }

    private static func load(_ configuration: TLSConfiguration) throws(TLSError) -> TLSContext {
        try TLSContext(
            certificate: configuration.certificatePath, key: configuration.keyPath,
            clientCA: configuration.clientCAPath, verifyClients: configuration.verifyClients)
    }
}
