// The entry point. Built by scripts/fuzz.sh with -DFUZZING, -sanitize=fuzzer,address and
// -parse-as-library: this file then defines the entry SwiftPM links as `main`, and hands
// control to libFuzzer. A plain `swift build` makes an empty executable.
#if FUZZING
import FuzzSupport

@_cdecl("FuzzAuthentication_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runLibFuzzer(argc, argv) { data, size in fuzzOneInput(data, size) }
}
#endif
