@_silgen_name("LLVMFuzzerRunDriver")
private func runDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt
) -> CInt

/// Hands the process to libFuzzer (linked in by `-sanitize=fuzzer`), which calls
/// `callback` with each input. Only in fuzz builds (scripts/fuzz.sh sets FUZZING).
public func runLibFuzzer(
    _ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt
) -> CInt {
    #if FUZZING
    var count = argc
    var arguments = argv
    return runDriver(&count, &arguments, callback)
    #else
    return 2
    #endif
}
