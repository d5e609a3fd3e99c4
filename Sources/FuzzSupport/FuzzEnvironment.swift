import CarriageProtocol

/// What the fuzz targets give the processors: no threads, fixed statistics and time;
/// SLEEP returns at once.
public struct FuzzEnvironment: ServerEnvironment {
    public init() {}
    public func threadDescription() -> String { "fuzz 0" }
    public func serverStats() -> [(name: String, value: Int)] { [("pid", 1), ("uptime_seconds", 1)] }
    public func block(milliseconds: Int) {}
    public func unixTime() -> Int { 1_796_300_000 }
}
