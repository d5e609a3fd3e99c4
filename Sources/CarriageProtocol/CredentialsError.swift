/// Why an auth file was refused; the daemon names the file before it.
public enum CredentialsError: Error, Equatable, CustomStringConvertible {
    /// Line `number` (from 1) is not `user:password`.
    case malformedLine(Int, String)
    /// No `user:password` line at all: nobody could ever log in.
    case noUsers

    public var description: String {
        switch self {
        case .malformedLine(let number, let reason):
            "line \(number) is not 'user:password' (\(reason))"
        case .noUsers:
            "no 'user:password' line: nobody could log in"
        }
    }
}
