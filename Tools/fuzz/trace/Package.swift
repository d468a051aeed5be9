// swift-tools-version:6.0
// libFuzzer target over trace files: the reader and every analysis `psync trace` runs. Built and
// run by Tools/fuzz.sh (with -sanitize=fuzzer,address, which supplies main); a package of its
// own so that the toolkit's ordinary builds never see a target without a main.
import PackageDescription

let package = Package(
    name: "PsyncTraceFuzz",
    dependencies: [
        .package(name: "Psync", path: "../../.."),
    ],
    targets: [
        .systemLibrary(name: "LZ4Frame", pkgConfig: "liblz4"),
        .executableTarget(name: "fuzz-trace", dependencies: [
            "LZ4Frame",
            .product(name: "Psync", package: "Psync"),
            .product(name: "PsyncTrace", package: "Psync"),
            .product(name: "PsyncAnalysis", package: "Psync"),
        ]),
    ],
    swiftLanguageModes: [.v6]
)
