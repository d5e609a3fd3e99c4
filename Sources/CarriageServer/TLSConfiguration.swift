/// `--tls-cert` and friends: TLS on the listeners, read at start and again on SIGHUP.
public struct TLSConfiguration: Sendable, Equatable {
    /// PEM: the server's certificate, then its chain.
    public var certificatePath: String
    /// PEM: the certificate's private key.
    public var keyPath: String
    /// PEM: the CAs a client certificate must chain to (`--tls-ca`).
    public var clientCAPath: String?
    /// Refuse clients without a certificate from `clientCAPath` (mutual TLS).
    public var verifyClients = false
    /// TLS on the line protocol's port.
    public var onLinePort = true
    /// TLS on the memcached port.
    public var onMemcachedPort = true

    public init(certificatePath: String, keyPath: String) {
        self.certificatePath = certificatePath
        self.keyPath = keyPath
    }
}
