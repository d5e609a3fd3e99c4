// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "Carriage",
    products: [
        .library(name: "WorkerPool", targets: ["WorkerPool"]),
        .executable(name: "carriaged", targets: ["carriaged"]),
        .executable(name: "carriage-load", targets: ["CarriageLoad"]),
        // libFuzzer targets: build and run them with scripts/fuzz.sh (they need
        // -sanitize=fuzzer and -parse-as-library; a plain build makes them as stubs).
        .executable(name: "fuzz-memcached", targets: ["FuzzMemcached"]),
        .executable(name: "fuzz-line-protocol", targets: ["FuzzLineProtocol"]),
        .executable(name: "fuzz-authentication", targets: ["FuzzAuthentication"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        // Only for `swift package generate-documentation` (WorkerPool's DocC): a plugin,
        // linked into nothing.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        // libevent, found with pkg-config; `scripts/test.sh` and `scripts/run.sh` install it.
        .systemLibrary(
            name: "CLibevent",
            path: "Modules/CLibevent",
            pkgConfig: "libevent",
            providers: [.apt(["libevent-dev"])]
        ),
        // OpenSSL's libssl, for TLS on the listeners (`--tls-cert`); found with pkg-config.
        .systemLibrary(
            name: "COpenSSL",
            path: "Modules/COpenSSL",
            pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]
        ),
        // The embeddable pool: pthreads, one mutex, two condition variables. Glibc only.
        .target(name: "WorkerPool"),
        // What the server, the daemon and the load tool stand on: the syscall helper and
        // its typed error, sockets, the libevent loop and its events, threads, the clock.
        .target(name: "CarriagePosix", dependencies: ["CLibevent", "COpenSSL"]),
        // The shared store: items in per-shard slab memory, LRU eviction, expiry, the memory
        // bound. Knows nothing of any protocol; no I/O.
        .target(name: "CarriageStore"),
        // Requests and commands, run against the store: pure Swift, no I/O.
        .target(name: "CarriageProtocol", dependencies: ["CarriageStore"]),
        // The libevent loop, connections and their hand-off to the pool.
        .target(
            name: "CarriageServer",
            dependencies: [
                "CarriagePosix", "WorkerPool", "CarriageStore", "CarriageProtocol",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "carriaged",
            dependencies: [
                "CarriageServer", "CarriagePosix", "CarriageStore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "CarriageLoad",
            dependencies: [
                "CarriagePosix", "CarriageStore", "CarriageProtocol",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]
        ),
        .target(name: "FuzzSupport", dependencies: ["CarriageProtocol"]),
        .executableTarget(name: "FuzzMemcached", dependencies: ["CarriageProtocol", "CarriageStore", "FuzzSupport"]),
        .executableTarget(name: "FuzzLineProtocol", dependencies: ["CarriageProtocol", "CarriageStore", "FuzzSupport"]),
        .executableTarget(name: "FuzzAuthentication", dependencies: ["CarriageProtocol", "CarriageStore", "FuzzSupport"]),
        .testTarget(name: "WorkerPoolTests", dependencies: ["WorkerPool"]),
        .testTarget(name: "CarriagePosixTests", dependencies: ["CarriagePosix"]),
        // Helpers the store's and the protocol's tests share (no XCTest in it).
        .target(name: "CarriageTestSupport", dependencies: ["CarriageStore"], path: "Tests/CarriageTestSupport"),
        .testTarget(name: "CarriageStoreTests", dependencies: ["CarriageStore", "CarriageTestSupport"]),
        .testTarget(
            name: "CarriageProtocolTests", dependencies: ["CarriageProtocol", "CarriageStore", "CarriageTestSupport"]),
        .testTarget(name: "CarriageServerTests", dependencies: ["CarriageServer"]),
        .testTarget(name: "CarriageLoadTests", dependencies: ["CarriageLoad", "CarriageProtocol"]),
        .testTarget(name: "EndToEndTests", dependencies: ["carriaged", "CarriageLoad", "CarriagePosix", "CarriageProtocol"]),
    ]
)
