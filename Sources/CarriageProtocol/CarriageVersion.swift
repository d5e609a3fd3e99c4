/// Carriage's version: what `carriaged --version` prints, `STATS` reports as `version`, the
/// start-up log line carries, and memcached's `version` reply ends with (after the
/// memcached version that clients parse).
public enum CarriageVersion {
    public static let number = "0.12.0"
}
