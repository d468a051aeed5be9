// swift-tools-version:6.0
// The Psync toolkit: a sans-I/O engine for the Psync protocol (Peterson, Buchholz, Schlichting 1989),
// a deterministic simulator that drives it, and the `psync` command-line tool.
import PackageDescription

let package = Package(
    name: "Psync",
    products: [
        .library(name: "Psync", targets: ["Psync"]),
        .library(name: "PsyncSimulator", targets: ["PsyncSimulator"]),
        .executable(name: "psync", targets: ["psync"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // The engine: no dependencies beyond the standard library, no clocks, no sockets.
        .target(name: "Psync"),
        .target(name: "PsyncSimulator", dependencies: ["Psync"]),
        .executableTarget(
            name: "psync",
            dependencies: [
                "Psync", "PsyncSimulator",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "PsyncTests", dependencies: ["Psync", "PsyncSimulator"]),
        .testTarget(name: "PsyncSimulatorTests", dependencies: ["Psync", "PsyncSimulator"]),
    ],
    swiftLanguageModes: [.v6]
)
