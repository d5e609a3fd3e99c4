import Glibc

/// The process's open-file limit (RLIMIT_NOFILE).
package enum OpenFileLimit {
    /// Raises the soft limit so that `needed` descriptors fit, as far as the hard limit
    /// allows (`Int.max`: all the way to it). Returns the limits now in force.
    @discardableResult
    package static func raise(toFit needed: Int = .max) -> (soft: Int, hard: Int) {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return (1024, 1024) }
        let hard = limit.rlim_max >= rlim_t(Int.max) ? Int.max : Int(limit.rlim_max)
        let wanted = min(needed, hard)
        if limit.rlim_cur < rlim_t(wanted) {
            var raised = limit
            raised.rlim_cur = rlim_t(wanted)
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        let soft = limit.rlim_cur >= rlim_t(Int.max) ? Int.max : Int(limit.rlim_cur)
        return (soft, hard)
    }
}
