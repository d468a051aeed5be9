import ArgumentParser
import Foundation
import Testing
import Psync
@testable import PsyncCLI
import PsyncFilters
import PsyncSimulator
import PsyncTrace

/// The command tree run in process, as `psync` runs it: what a command prints is its business;
/// these tests hold it to its exit status.
func exitStatus(_ arguments: [String]) async -> Int32 {
    do {
        var command = try PsyncCommand.parseAsRoot(arguments)
        if var async = command as? AsyncParsableCommand { try await async.run() } else { try command.run() }
        return 0
    } catch {
        return PsyncCommand.exitCode(for: error).rawValue
    }
}

/// The `psync` binary built beside the test bundle (`swift build` builds both).
let psyncBinary: String = {
    let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("psync").path
    if FileManager.default.isExecutableFile(atPath: beside) { return beside }
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    return root.appendingPathComponent(".build/debug/psync").path
}()

func temporaryTrace(_ name: String) -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("psync-cli-tests-\(getpid())")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir.appendingPathComponent(name).path
}

/// A simulation's trace, written whole or (`cut`) only its first two thirds, as a killed run leaves it.
func writeTrace(_ path: String, seed: UInt64 = 1, filters: [String] = [], cut: Bool = false,
                stack: (() -> [OrderingFilter])? = nil) throws {
    let sink = MemoryTraceSink()
    var config = SimulationConfig(seed: seed, participants: 3, filters: filters)
    config.network.link.lossProbability = 0.1
    config.workload.messagesPerParticipant = 6
    if let stack { Simulator(config, trace: sink, filters: stack).run() } else { Simulator(config, trace: sink).run() }
    let writer = try LZ4TraceWriter(path: path)
    for e in cut ? Array(sink.events.prefix(sink.events.count * 2 / 3)) : sink.events { writer.record(e) }
    try writer.close()
}

@Suite struct CommandLineTests {
    @Test func unknownFilterNamesExitTwoEverywhere() async throws {
        let trace = temporaryTrace("plain.jsonl.lz4")
        try writeTrace(trace)
        #expect(await exitStatus(["simulate", "--filter", "nope"]) == 2)
        #expect(await exitStatus(["simulate", "--filter", "waves,nope"]) == 2)
        #expect(await exitStatus(["simulate", "--filter", "quorum:0"]) == 2)
        #expect(await exitStatus(["trace", "replay", trace, "--filter", "nope"]) == 2)
        #expect(await exitStatus(["trace", "compare", trace, "--filter", "nope"]) == 2)
        #expect(await exitStatus(["node", "--me", "0", "--peers", "0=127.0.0.1:1", "--filter", "nope"]) == 2)
        #expect(await exitStatus(["simulate", "--filter", "causal", "--messages", "3"]) == 0)
    }

    /// `trace replay --verify` of a trace whose filter this program never registered: a clear
    /// error and exit 2 (it trapped on a `try!`).
    @Test func replayOfAnUnregisteredFilterExitsTwo() async throws {
        let trace = temporaryTrace("outside.jsonl.lz4")
        try writeTrace(trace, stack: { [CausalFilter.renamed("only-in-this-test")] })
        #expect(await exitStatus(["trace", "replay", trace, "--verify"]) == 2)
        FilterRegistry.register("only-in-this-test", summary: "test") { CausalFilter.renamed("only-in-this-test") }
        #expect(await exitStatus(["trace", "replay", trace, "--verify"]) == 0)
        #expect(await exitStatus(["trace", "check", trace]) == 0)
    }

    /// A run cut short (no end record): the tools print what they read and exit 2; `check`
    /// says it cannot tell instead of reporting the missing tail as violations.
    @Test func aTraceWithoutItsEndIsIncomplete() async throws {
        let whole = temporaryTrace("whole.jsonl.lz4"), cut = temporaryTrace("cut.jsonl.lz4")
        try writeTrace(whole, seed: 4)
        try writeTrace(cut, seed: 4, cut: true)
        for tool in [["check"], ["stats", "--format", "csv"], ["dot", "-o", "/dev/null"]] {
            #expect(await exitStatus(["trace"] + tool + [whole]) == 0, "\(tool)")
            #expect(await exitStatus(["trace"] + tool + [cut]) == 2, "\(tool)")
        }
        #expect(await exitStatus(["trace", "export", cut, "--format", "perfetto", "-o", "/dev/null"]) == 2)
        #expect(await exitStatus(["trace", "compare", whole, cut]) == 2)
    }

    /// The same with a real kill: `psync simulate` killed mid-run, after its trace has frames.
    /// SIGTERM stops it between two events (its trace ends "interrupted"); SIGKILL leaves no end.
    @Test(arguments: [SIGTERM, SIGKILL])
    func aKilledSimulationsTraceIsIncomplete(signal: Int32) async throws {
        let trace = temporaryTrace("killed-\(signal).jsonl.lz4")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: psyncBinary)
        process.arguments = ["simulate", "--participants", "4", "--messages", "200000", "--loss", "0.1", "--trace", trace]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        var size = 0
        // A blocking sleep, not `Task.sleep`: a task that gives its thread back may wait minutes
        // for one on two cores busy with simulation suites, while the child runs on unkilled.
        for _ in 0..<600 where size < 200_000 {
            usleep(50_000)
            size = ((try? FileManager.default.attributesOfItem(atPath: trace))?[.size] as? Int) ?? 0
        }
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
        #expect(size >= 200_000, "the trace grew to \(size) bytes before the kill")
        #expect(process.terminationStatus == (signal == SIGTERM ? 130 : SIGKILL))
        #expect(await exitStatus(["trace", "check", trace]) == 2)
        var last: TraceEvent.Kind?
        _ = try? TraceReader(path: trace).forEach { last = $0.kind }
        if signal == SIGTERM {
            #expect(last == .end(reason: EndReason.interrupted.rawValue))
        } else {
            #expect(last?.isEnd == false, "a killed run's trace ends with \(String(describing: last))")
        }
    }

    /// Shell completion asks the tool for `--filter` values: every registered name, after the
    /// names typed so far.
    @Test func filterNamesComplete() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: psyncBinary)
        process.arguments = ["---completion", "simulate", "--", "--filter", "3", "7", "psync", "simulate", "--filter", "waves,m"]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let words = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(separator: "\n").map(String.init)
        process.waitUntilExit()
        // The binary knows the built-in filters (this test process may have registered more).
        let known = Set(FilterRegistry.catalog.map { "waves," + $0.name })
        #expect(Set(words).isSubset(of: known) && words.count >= 8, "\(words)")
        #expect(words.contains("waves,membership") && words.contains("waves,depth-first"))
    }

    @Test func versionAndHelp() throws {
        #expect(throws: (any Error).self) { _ = try PsyncCommand.parseAsRoot(["--version"]) }
        do { _ = try PsyncCommand.parseAsRoot(["--version"]) } catch {
            #expect(PsyncCommand.exitCode(for: error) == .success)
            #expect(PsyncCommand.fullMessage(for: error).contains(toolkitVersion))
        }
        // Defaults are shown, those of options parsed by a transform too.
        let help = SimulateCommand.helpMessage(columns: 200)
        for shown in ["(default: 10ms)", "(default: uniform:1ms-3ms)", "(default: 200ms)", "(default: 3)"] {
            #expect(help.contains(shown), "\(shown)")
        }
    }
}

extension CausalFilter {
    /// Causal order under another name: a filter this program has not registered.
    static func renamed(_ name: String) -> OrderingFilter { Renamed(name: name) }

    final class Renamed: OrderingFilter {
        let name: String
        let guarantees: Set<FilterGuarantee> = [.causal, .complete]
        private var ready: [FilterMessage] = []
        init(name: String) { self.name = name }
        func input(_ message: FilterMessage, _ context: FilterContext) { ready.append(message) }
        func update(_ context: FilterContext) {
            for m in ready { context.deliver(m, from: self) }
            ready.removeAll()
        }
    }
}
