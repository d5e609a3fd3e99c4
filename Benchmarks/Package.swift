// swift-tools-version: 6.0
// WorkerPool beside the other thread pools a Swift program can use, in a package of its
// own so that the product never depends on swift-nio. Run it with scripts/pool-bench.sh.
import PackageDescription

let package = Package(
    name: "CarriageBenchmarks",
    products: [
        .executable(name: "pool-compare", targets: ["PoolCompare"]),
    ],
    dependencies: [
        .package(name: "Carriage", path: ".."),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        // glibc's mallinfo2(), which the Glibc module does not export: heap bytes in use.
        .target(name: "CMallocInfo"),
        .executableTarget(
            name: "PoolCompare",
            dependencies: [
                "CMallocInfo",
                .product(name: "WorkerPool", package: "Carriage"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
    ]
)
