import Foundation
import Testing

/// The `mylab` executable end to end: the toolkit's command tree under our name, with the
/// sequencer registered. (Build it first: `swift build --build-tests`.)
@Suite struct MylabTests {
    /// The package's directory (this file is Tests/SequencerPolicyTests/MylabTests.swift).
    static let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `mylab` beside the test bundle, or in the package's debug build.
    static var mylab: URL? {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("mylab")
        let debug = package.appendingPathComponent(".build/debug/mylab")
        return [beside, debug].first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    /// Runs `mylab arguments`: its exit status, standard output and standard error.
    static func run(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        guard let mylab else { throw MissingTool() }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mylab-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("out"), err = directory.appendingPathComponent("err")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        let process = Process()
        process.executableURL = mylab
        process.arguments = arguments
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
        process.waitUntilExit()
        return (process.terminationStatus, try String(contentsOf: out, encoding: .utf8), try String(contentsOf: err, encoding: .utf8))
    }

    struct MissingTool: Error, CustomStringConvertible {
        var description: String { "mylab is not built: run `swift build --build-tests` in \(MylabTests.package.path)" }
    }

    @Test func simulateWithATraceThenReplayIt() throws {
        let trace = FileManager.default.temporaryDirectory.appendingPathComponent("mylab-\(UUID().uuidString).jsonl.lz4").path
        defer { try? FileManager.default.removeItem(atPath: trace) }
        let simulate = try Self.run(["simulate", "--filter", "sequencer", "--seed", "3", "--participants", "4", "--loss", "0.1", "--trace", trace])
        #expect(simulate.status == 0, "mylab simulate: \(simulate.out)\(simulate.err)")
        #expect(simulate.out.contains("sequencer deliver") && simulate.out.contains("filters keep their promises: ok"), "\(simulate.out)")
        let replay = try Self.run(["trace", "replay", trace, "--verify"])
        #expect(replay.status == 0, "mylab trace replay --verify: \(replay.out)\(replay.err)")
        #expect(replay.out.hasPrefix("identical"), "\(replay.out)")
    }

    @Test func anUnknownFilterExitsTwoNamingTheKnownOnes() throws {
        let r = try Self.run(["simulate", "--filter", "nope"])
        #expect(r.status == 2)
        #expect(r.err.contains("mylab simulate: unknown filter 'nope'") && r.err.contains("sequencer"), "\(r.err)")
    }

    @Test func filtersListsTheSequencer() throws {
        let r = try Self.run(["filters"])
        #expect(r.status == 0)
        #expect(r.out.split(separator: "\n").contains { $0.hasPrefix("sequencer ") }, "\(r.out)")
        #expect(r.out.contains("eager-sequencer"))
    }

    /// A failing run exits 1 with the seed and a command that reproduces it.
    @Test func theBrokenVariantFailsWithAReproductionCommand() throws {
        let r = try Self.run(["simulate", "--filter", "eager-sequencer", "--seed", "3", "--participants", "4"])
        #expect(r.status == 1)
        #expect(r.out.contains("violation: eager-sequencer: "), "\(r.out)")
        #expect(r.out.contains("seed 3 failed; reproduce with: swift run -c release "), "\(r.out)")
        // The command names the tool that was run (`PsyncCLI.commandName`).
        #expect(r.out.contains("reproduce with: swift run -c release mylab simulate --seed 3"), "\(r.out)")
    }

    /// `mylab explore` model-checks the outside policies with no seed: the sequencer over every
    /// ordering of a small scope with a loss, and the broken variant caught with a short
    /// counterexample that the trace tools draw and walk.
    @Test func exploreChecksTheSequencerAndCatchesTheBrokenOne() throws {
        let good = try Self.run(["explore", "--filter", "sequencer", "--participants", "2", "--messages", "1", "--no-acks", "--losses", "1"])
        #expect(good.status == 0 && good.out.contains(", exhaustive,"), "\(good.out)\(good.err)")

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mylab-explore-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let trace = directory.appendingPathComponent("counterexample.lz4").path
        let test = directory.appendingPathComponent("CounterexampleTests.swift").path
        let bad = try Self.run(["explore", "--filter", "eager-sequencer", "--participants", "3", "--messages", "1", "--no-acks",
                                "--trace", trace, "--test", test])
        #expect(bad.status == 1 && bad.out.contains("VIOLATION after "), "\(bad.out)\(bad.err)")
        let steps = bad.out.split(separator: "\n").filter { $0.hasPrefix("  ") && $0.dropFirst(2).first?.isNumber == true }
        #expect(!steps.isEmpty && steps.count <= 8, "\(bad.out)")
        let dot = try Self.run(["trace", "dot", trace])
        #expect(dot.status == 0 && dot.out.contains("digraph"), "\(dot.err)")
        let step = try Self.run(["trace", "replay", trace, "--step"])
        #expect(step.status == 0 && step.out.contains("holding:"), "\(step.err)")
        let source = try String(contentsOfFile: test, encoding: .utf8)
        #expect(source.contains("@Test func exploredCounterexample()") && source.contains("mylab explore"), "\(source)")
    }
}
