// swift-tools-version:6.0
// An outside user of the Psync toolkit: a fixed-sequencer ordering policy written against the
// toolkit's public API only, a `mylab` tool that runs the toolkit's command tree with it
// registered, and tests that hold the policy to its promises. See README.md.
import PackageDescription

let package = Package(
    name: "PsyncExamples",
    dependencies: [
        .package(name: "Psync", path: ".."),
    ],
    targets: [
        .target(name: "SequencerPolicy", dependencies: [
            .product(name: "Psync", package: "Psync"),
            .product(name: "PsyncFilters", package: "Psync"),
        ]),
        .executableTarget(name: "mylab", dependencies: [
            "SequencerPolicy",
            .product(name: "PsyncCLI", package: "Psync"),
        ]),
        .testTarget(name: "SequencerPolicyTests", dependencies: [
            "SequencerPolicy",
            .product(name: "Psync", package: "Psync"),
            .product(name: "PsyncFilters", package: "Psync"),
            .product(name: "PsyncSimulator", package: "Psync"),
            .product(name: "PsyncTrace", package: "Psync"),
            .product(name: "PsyncAnalysis", package: "Psync"),
        ]),
    ],
    swiftLanguageModes: [.v6]
)
