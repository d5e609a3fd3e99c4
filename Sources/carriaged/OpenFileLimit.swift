import Glibc

/// Raises the soft RLIMIT_NOFILE so that `needed` descriptors fit, as far as the hard
/// limit allows. Returns the soft limit now in force.
enum OpenFileLimit {
    static func raise(toFit needed: Int) -> (soft: Int, hard: Int) {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return (needed, needed) }
        let hard = limit.rlim_max >= rlim_t(Int.max) ? Int.max : Int(limit.rlim_max)
        let wanted = min(needed, hard)
        if Int(limit.rlim_cur) < wanted {
            var raised = limit
            raised.rlim_cur = rlim_t(wanted)
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return (Int(limit.rlim_cur), hard)
    }
}
