// swift-tools-version:6.0
// The Psync toolkit: a sans-I/O engine for the Psync protocol (Peterson, Buchholz, Schlichting 1989),
// a deterministic simulator that drives it, and the `psync` command-line tool.
import PackageDescription

let package = Package(
    name: "Psync",
    products: [
        .library(name: "Psync", targets: ["Psync"]),
        .library(name: "PsyncTrace", targets: ["PsyncTrace"]),
        .library(name: "PsyncFilters", targets: ["PsyncFilters"]),
        .library(name: "PsyncSimulator", targets: ["PsyncSimulator"]),
        .library(name: "PsyncAnalysis", targets: ["PsyncAnalysis"]),
        .library(name: "PsyncNIO", targets: ["PsyncNIO"]),
        .library(name: "PsyncLog", targets: ["PsyncLog"]),
        .library(name: "PsyncAuth", targets: ["PsyncAuth"]),
        .library(name: "PsyncCLI", targets: ["PsyncCLI"]),
        .executable(name: "psync", targets: ["psync"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        // The engine: no dependencies beyond the standard library, no clocks, no sockets.
        .target(name: "Psync"),
        // liblz4 through the system's package (`apt-get install liblz4-dev`), for trace files.
        .systemLibrary(name: "CLZ4", pkgConfig: "liblz4", providers: [.apt(["liblz4-dev"])]),
        .target(name: "PsyncTrace", dependencies: ["Psync", "CLZ4"]),
        // zlib through the system's package, for HdrHistogram's compressed log format (.hlog).
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .target(name: "PsyncFilters", dependencies: ["Psync", "PsyncTrace"]),
        // Section 5's non-volatile image: a host's append-only message log (file I/O, so not in the engine).
        .target(name: "PsyncLog", dependencies: ["Psync"]),
        // Authenticated conversations: HMAC-SHA256 per packet, applied by the shells at the byte
        // boundary (the engine stays free of cryptography).
        .target(name: "PsyncAuth", dependencies: ["Psync", .product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "PsyncSimulator", dependencies: ["Psync", "PsyncTrace", "PsyncFilters", "PsyncAuth",
                                                      .product(name: "Histogram", package: "hdrhistogram-swift")]),
        .target(
            name: "PsyncAnalysis",
            dependencies: ["Psync", "PsyncTrace", "PsyncFilters", "PsyncSimulator", "CZlib",
                           .product(name: "Histogram", package: "hdrhistogram-swift")]
        ),
        // The UDP shell: one process is one host; real clock, real sockets, the blast layer.
        .target(
            name: "PsyncNIO",
            dependencies: ["Psync", "PsyncTrace", "PsyncFilters", "PsyncSimulator", "PsyncLog", "PsyncAuth",
                           .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "NIOPosix", package: "swift-nio")]
        ),
        // The `psync` command tree, as a library: outside packages run it under their own name
        // with their own filters registered.
        .target(
            name: "PsyncCLI",
            dependencies: [
                "Psync", "PsyncTrace", "PsyncFilters", "PsyncSimulator", "PsyncAnalysis", "PsyncNIO", "PsyncAuth",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .executableTarget(name: "psync", dependencies: ["PsyncCLI"]),
        .testTarget(name: "PsyncTests", dependencies: ["Psync", "PsyncSimulator"]),
        .testTarget(name: "PsyncTraceTests", dependencies: ["Psync", "PsyncTrace", "PsyncSimulator"]),
        .testTarget(name: "PsyncFiltersTests", dependencies: ["Psync", "PsyncTrace", "PsyncFilters", "PsyncSimulator"]),
        .testTarget(name: "PsyncSimulatorTests", dependencies: ["Psync", "PsyncSimulator"]),
        .testTarget(name: "PsyncNIOTests", dependencies: ["Psync", "PsyncTrace", "PsyncFilters", "PsyncSimulator", "PsyncAnalysis", "PsyncNIO", "PsyncAuth"]),
        .testTarget(name: "PsyncLogTests", dependencies: ["Psync", "PsyncLog", "PsyncSimulator"]),
        .testTarget(name: "PsyncAuthTests", dependencies: ["Psync", "PsyncAuth", "PsyncTrace", "PsyncSimulator", "PsyncAnalysis"]),
        .testTarget(name: "PsyncCLITests", dependencies: ["Psync", "PsyncTrace", "PsyncFilters", "PsyncSimulator", "PsyncAnalysis", "PsyncCLI",
                                                       .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .testTarget(name: "PsyncAnalysisTests", dependencies: ["Psync", "PsyncTrace", "PsyncFilters", "PsyncSimulator", "PsyncAnalysis"],
                    exclude: ["Golden"]),
    ],
    swiftLanguageModes: [.v6]
)
