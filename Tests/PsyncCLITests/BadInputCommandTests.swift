import Foundation
import Testing
import Psync
import PsyncAnalysis
@testable import PsyncCLI
import PsyncFilters
import PsyncSimulator
import PsyncTrace

/// Issue 15's crafted traces and command lines, each of which made a tool trap (exit 132) or
/// run for ever: every one now gets a clear error and its exit status (2: the tool cannot read
/// or cannot tell; 64: a command line that cannot run).
@Suite struct BadInputCommandTests {
    /// A simulated trace's header and records, as edits start from.
    /// (`name` keeps parallel tests off each other's files.)
    static func records(filters: [String] = [], name: String = "") throws -> (TraceHeader, [TraceEvent]) {
        let path = temporaryTrace("source-\(name)-\(filters.joined(separator: "-")).jsonl.lz4")
        try writeTrace(path, seed: 3, filters: filters)
        return try TraceReader.readAll(path: path)
    }

    static func write(_ header: TraceHeader, _ events: [TraceEvent], to name: String) throws -> String {
        let path = temporaryTrace(name)
        let writer = try LZ4TraceWriter(path: path)
        writer.record(TraceEvent(time: 0, host: nil, .header(header)))
        for e in events { writer.record(e) }
        try writer.close()
        return path
    }

    /// A `release` earlier than its `hold` (the unsigned subtraction in `TraceStatistics`
    /// trapped): the reader refuses a trace whose time goes backwards, in every tool.
    @Test func timeGoingBackwardsIsRefusedByEveryTool() async throws {
        let (header, events) = try Self.records(name: "backwards")
        let release = try #require(events.firstIndex { if case .release = $0.kind { true } else { false } })
        guard case .release(_, let m) = events[release].kind,
              let hold = events[..<release].lastIndex(where: { if case .hold(_, m, _) = $0.kind { true } else { false } }) else {
            Issue.record("the run held nothing")
            return
        }
        try #require(events[hold].time > 0)
        var edited = events
        edited[release].time = events[hold].time - 1
        let path = try Self.write(header, edited, to: "backwards.jsonl.lz4")
        for tool in [["stats"], ["compare", path, "--filter", "causal"], ["replay", "--filter", "causal"], ["check"],
                     ["dot", "-o", "/dev/null"], ["replay", "--step"], ["replay", "--verify"],
                     ["export", "--format", "perfetto", "-o", "/dev/null"]] {
            #expect(await exitStatus(["trace"] + tool + [path]) == 2, "\(tool)")
        }
        var error: TraceError?
        do { try TraceReader(path: path).forEach { _ in } } catch let e { error = e }
        #expect(error?.description.contains("time goes backwards") == true, "\(String(describing: error))")
    }

    /// t = 2^64-1 (timers added to it wrapped and `replay --filter waves,membership` never
    /// ended): past the latest trace time, refused; a leap within it stops the replay of a
    /// filter whose periodic timer would fire more than `timerFiringLimit` times to reach the
    /// record (a 1 ms tick here; the built-in filters stop their timers when muted, as replayed
    /// filters are).
    @Test func timeLeapsAreRefusedOrAbandoned() async throws {
        FilterRegistry.register("ticking-test", summary: "causal order with a 1 ms timer") { TickingFilter() }
        let (header, events) = try Self.records(filters: ["waves", "membership"], name: "leaps")
        var edited = events
        // The end record leaps: the trace stays complete.
        edited[edited.count - 1].time = UInt64.max
        let beyond = try Self.write(header, edited, to: "beyond.jsonl.lz4")
        for tool in [["stats"], ["replay", "--filter", "waves,membership"], ["replay", "--filter", "ticking-test"], ["check"]] {
            #expect(await exitStatus(["trace"] + tool + [beyond]) == 2, "\(tool)")
        }
        edited[edited.count - 1].time = TraceReader.latestTime
        let leap = try Self.write(header, edited, to: "leap.jsonl.lz4")
        #expect(await exitStatus(["trace", "stats", leap]) == 0)
        #expect(await exitStatus(["trace", "replay", "--filter", "waves,membership", leap]) == 0)
        #expect(await exitStatus(["trace", "replay", "--filter", "ticking-test", leap]) == 2)
        #expect(throws: CounterfactualReplay.Abandoned.self) {
            try CounterfactualReplay.statistics(leap, filters: ["ticking-test"])
        }
        // The untouched run replays to its end.
        let whole = try Self.write(header, events, to: "whole-membership.jsonl.lz4")
        #expect(await exitStatus(["trace", "replay", "--filter", "ticking-test", whole]) == 0)
    }

    /// Causal delivery with a timer that re-arms itself every millisecond.
    final class TickingFilter: OrderingFilter {
        let name = "ticking-test"
        let guarantees: Set<FilterGuarantee> = [.causal]
        private var ready: [FilterMessage] = []
        func start(_ context: FilterContext) { context.setTimer(after: 1_000_000, token: 0, for: self) }
        func timerFired(_ token: Int, _ context: FilterContext) { context.setTimer(after: 1_000_000, token: 0, for: self) }
        func input(_ message: FilterMessage, _ context: FilterContext) { ready.append(message) }
        func update(_ context: FilterContext) {
            for m in ready { context.deliver(m, from: self) }
            ready.removeAll()
        }
    }

    /// Header configurations that cannot run (they trapped `replay --verify`, or never ended):
    /// refused with the reason, at once.
    @Test(arguments: ["no participants", "100,000 participants", "unknown filter", "quorum:0", "quorum above participants",
                      "zero wire limit", "zero batch limit", "10^12 messages", "negative drop sender", "membership alone"])
    func impossibleHeaderConfigurationsAreRefused(edit: String) async throws {
        var (header, events) = try Self.records(name: edit.filter(\.isLetter))
        var config = try SimulationConfig(traceHeader: header)
        switch edit {
        case "no participants": config.participants = 0
        case "100,000 participants": config.participants = 100_000
        case "unknown filter": config.filters = ["nope"]
        case "quorum:0": config.filters = ["quorum:0"]
        case "quorum above participants": config.filters = ["quorum:4"]
        case "zero wire limit": config.host.wireLimits.maxParticipants = 0
        case "zero batch limit": config.host.retransmitBatchLimit = 0
        case "10^12 messages": config.workload.messagesPerParticipant = 1_000_000_000_000
        case "negative drop sender": config.faults.drops = [DropRule(message: MessageID(sender: 0, sequence: 1))]
            config.faults.drops[0].sender = -1
        case "membership alone": config.filters = ["membership"]
        default: Issue.record("no edit \(edit)")
        }
        header.run = config.json
        header.filters = config.filters
        let path = try Self.write(header, events, to: "header-\(edit.filter(\.isLetter)).jsonl.lz4")
        let start = ContinuousClock.now
        #expect(await exitStatus(["trace", "replay", "--verify", path]) == 2)
        #expect(ContinuousClock.now - start < .seconds(10), "refused at once, not attempted")
        #expect(!config.problems().isEmpty)
    }

    /// `replay --verify` of a damaged trace says it cannot tell (it said "diverged", 1), and
    /// `replay --step` says the trace is incomplete (it exited 0 silently).
    @Test func damagedTracesCannotBeVerifiedOrSteppedThrough() async throws {
        let cut = temporaryTrace("cut-verify.jsonl.lz4")
        try writeTrace(cut, seed: 5, cut: true)
        #expect(await exitStatus(["trace", "replay", "--verify", cut]) == 2)
        #expect(await exitStatus(["trace", "replay", "--step", "--limit", "3", cut]) == 2)
    }

    /// Command lines that were accepted and then failed at run time, or hung.
    @Test func commandLinesThatCannotRunAreRefused() async throws {
        for arguments in [["--filter", "quorum:4"], ["--filter", "membership"], ["--filter", "causal,membership"], ["--filter", "depth-first,membership"],
                          ["--messages", "4000000000"], ["--participants", "0"], ["--filter", "waves,waves"]] {
            #expect(await exitStatus(["simulate", "--messages", "3"] + arguments) == 64, "\(arguments)")
        }
        #expect(await exitStatus(["simulate", "--messages", "3", "--filter", "quorum:3"]) == 0)
        #expect(await exitStatus(["simulate", "--messages", "3", "--filter", "waves,membership"]) == 0)
        #expect(await exitStatus(["node", "--me", "0", "--peers", "0=127.0.0.1:1,1=127.0.0.1:2", "--filter", "quorum:3"]) == 64)
        // Authenticated conversations: a secret too short, a key file that is not there, an
        // attack on a host the run does not have or spelt wrong.
        let shortKey = temporaryTrace("short.key")
        try Data(repeating: 1, count: 15).write(to: URL(fileURLWithPath: shortKey))
        for keyFile in [shortKey, temporaryTrace("missing.key")] {
            #expect(await exitStatus(["node", "--me", "0", "--peers", "0=127.0.0.1:1,1=127.0.0.1:2", "--key-file", keyFile]) == 64)
        }
        for attack in ["forge:3@1ms", "forge:1", "steal:1@1ms"] {
            #expect(await exitStatus(["simulate", "--messages", "3", "--authenticate", "--attack", attack]) == 64, "\(attack)")
        }
        #expect(await exitStatus(["simulate", "--messages", "3", "--authenticate", "--attack", "forge:1@5ms", "--attack", "alter:0@1ms"]) == 0)

        let trace = temporaryTrace("dot-options.jsonl.lz4")
        try writeTrace(trace)
        #expect(await exitStatus(["trace", "dot", trace, "--range", "1...3"]) == 64)
        #expect(await exitStatus(["trace", "dot", trace, "--range", "500..600", "-o", "/dev/null"]) == 2)
        #expect(await exitStatus(["trace", "dot", trace, "--view", "p9", "-o", "/dev/null"]) == 2)
        #expect(await exitStatus(["trace", "dot", trace, "--range", "2..4", "--view", "p1", "-o", "/dev/null"]) == 0)
        #expect(await exitStatus(["trace", "dot", trace, "--at", "5xx"]) == 64)
        #expect(await exitStatus(["trace", "dot", trace, "--layout", "circle"]) == 64)
        #expect(await exitStatus(["trace", "dot", trace, "--view", "p1", "--at", "3ms", "--layout", "paper", "--data-only", "-o", "/dev/null"]) == 0)

        // Histograms come one file per metric: a directory, or one named metric.
        #expect(await exitStatus(["trace", "stats", trace, "--format", "hgrm"]) == 64)
        #expect(await exitStatus(["trace", "stats", trace, "--format", "csv", "--metric", "receive"]) == 64)
        #expect(await exitStatus(["trace", "stats", trace, "--format", "hlog", "--metric", "nope"]) == 2)
        #expect(await exitStatus(["trace", "stats", trace, "--format", "hlog", "--metric", "receive", "-o", "/dev/null"]) == 0)
        let directory = temporaryTrace("histograms")
        #expect(await exitStatus(["trace", "stats", trace, "--format", "hgrm", "-o", directory]) == 0)
        #expect(FileManager.default.fileExists(atPath: directory + "/receive.hgrm") && FileManager.default.fileExists(atPath: directory + "/stable.hgrm"))
        #expect(await exitStatus(["trace", "stats", trace, "--format", "hlog", "-o", "/proc/nonexistent/dir"]) == 2)
    }

    /// A title with a trailing backslash, quotes and a line break (Graphviz rejected the DOT).
    @Test func titlesAreQuotedForGraphviz() async throws {
        let trace = temporaryTrace("dot-title.jsonl.lz4"), out = temporaryTrace("title.dot")
        try writeTrace(trace)
        #expect(await exitStatus(["trace", "dot", trace, "--title", "a \"b\"\nc\\", "-o", out]) == 0)
        let dot = try String(contentsOfFile: out, encoding: .utf8)
        #expect(dot.contains(#"label="a \"b\"\nc\\";"#), "\(dot.prefix(300))")
        let graphviz = Process()
        graphviz.executableURL = URL(fileURLWithPath: "/usr/bin/dot")
        graphviz.arguments = ["-Tsvg", out, "-o", "/dev/null"]
        let errors = Pipe()
        graphviz.standardError = errors
        try graphviz.run()
        graphviz.waitUntilExit()
        #expect(graphviz.terminationStatus == 0)
        #expect(errors.fileHandleForReading.readDataToEndOfFile().isEmpty)
    }
}
