import CarriagePosix
import CarriageProtocol
import Glibc

/// `--auth-file`: read once at start, before any thread exists.
enum AuthFile {
    /// The users in `path`, and a warning to log when others than its owner may read it.
    static func load(_ path: String) throws(DaemonError) -> (Credentials, warning: String?) {
        let bytes: [UInt8]
        let permissions: mode_t
        do {
            let fd = try Descriptor.open(path, O_RDONLY)
            defer { Descriptor.close(fd) }
            permissions = try Descriptor.permissions(fd)
            bytes = try Descriptor.readToEnd(fd)
        } catch {
            throw .authFileUnreadable(path: path, error)
        }
        let credentials: Credentials
        do {
            credentials = try Credentials(parsing: bytes)
        } catch {
            throw .authFileMalformed(path: path, error)
        }
        var warning: String?
        if permissions & 0o044 != 0 {
            warning = "--auth-file \(path) is readable by \(permissions & 0o004 != 0 ? "every user" : "its group") (mode \(String(permissions, radix: 8))): its passwords are in clear; chmod 600 it"
        }
        return (credentials, warning)
    }
}
