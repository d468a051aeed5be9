import Foundation
import Testing
import Psync
import PsyncAnalysis
import PsyncTrace

/// Merging the per-process traces of a real run (`TraceMerge` through `TraceStream.read([...])`),
/// on traces written by hand: each process's header is a `RealRun`, its `t` its monotonic clock.
@Suite struct MergeTests {
    static let cid = ConversationID(7)
    static let pids = (0..<3).map { ParticipantID(host: HostID(UInt32($0))) }
    /// A realistic wall clock at start (2023), far from any monotonic reading.
    static let wall: UInt64 = 1_700_000_000_000_000_000

    /// One process of a hand-made run: its header's facts and its records (monotonic `t`).
    struct Process {
        var host: UInt32
        var boot = "boot-1"
        var monotonicStart: UInt64 = 5_000_000_000
        var wallStart = MergeTests.wall
        var participants = 2
        var conversation: ConversationID? = MergeTests.cid
        var filters: [String] = []
        var records: [(UInt64, TraceEvent.Kind)] = []

        var run: RealRun {
            RealRun(host: HostID(host), bootID: boot, monotonicAtStartNanoseconds: monotonicStart, wallClockAtStartNanoseconds: wallStart)
        }

        /// Records at these offsets from the process's start.
        mutating func at(_ offset: UInt64, _ kind: TraceEvent.Kind) { records.append((monotonicStart + offset, kind)) }

        func write(_ name: String, options: LZ4TraceWriter.Options = .init()) throws -> String {
            let path = temporaryPath("merge-\(name).jsonl.lz4")
            let writer = try LZ4TraceWriter(path: path, options: options)
            let header = TraceHeader(clock: "monotonic", seed: nil, participants: Array(MergeTests.pids.prefix(participants)),
                                     conversation: conversation, filters: filters, run: run.json)
            writer.record(TraceEvent(time: monotonicStart, host: nil, .header(header)))
            for (t, kind) in records { writer.record(TraceEvent(time: t, host: HostID(host), kind)) }
            try writer.close()
            return path
        }
    }

    static func mid(_ label: String) -> MessageID { MessageID(label: label)! }
    static func send(_ p: Int, _ m: String, after preds: [String] = []) -> TraceEvent.Kind {
        .send(cid, pids[p], mid(m), predecessors: preds.map(mid), payloadBytes: 8, content: "data")
    }
    static func arrive(_ m: String, after preds: [String] = []) -> TraceEvent.Kind { .arrive(cid, mid(m), predecessors: preds.map(mid)) }
    static func receive(_ p: Int, _ m: String) -> TraceEvent.Kind { .receive(cid, pids[p], mid(m)) }
    static func mark(_ name: String) -> TraceEvent.Kind { .other(name: "mark", fields: [("n", .string(name))]) }
    static let end = TraceEvent.Kind.end(reason: "done")

    static func merge(_ paths: [String]) throws -> ([TraceEvent], TraceStream.Outcome) {
        var events: [TraceEvent] = []
        let outcome = try TraceStream.read(paths) { events.append($0) }
        return (events, outcome)
    }

    static func failure(_ paths: [String]) -> TraceMerge.Failure? {
        do {
            _ = try TraceStream.read(paths) { _ in }
            return nil
        } catch {
            return error
        }
    }

    /// What a merged stream is made of, after its header: (t, host, kind).
    static func summary(_ events: [TraceEvent]) -> [String] {
        events.dropFirst().map { "\($0.time) \($0.host.map { "\($0.rawValue)" } ?? "-") \($0.kind.name)" }
    }

    static func marks(_ events: [TraceEvent]) -> [String] {
        events.compactMap { if case .other("mark", let f) = $0.kind { f[0].1.string } else { nil } }
    }

    /// a1 from host 0, answered by b1 from host 1 (one machine).
    static func exchange() -> (Process, Process) {
        var a = Process(host: 0)
        a.at(1_000, .open(cid, pids[0], participants: Array(pids.prefix(2)), active: true))
        a.at(2_000, send(0, "a1"))
        a.at(40_000, arrive("b1", after: ["a1"]))
        a.at(40_100, receive(0, "b1"))
        a.at(50_000, end)
        var b = Process(host: 1, monotonicStart: 5_000_000_500)
        b.at(9_500, arrive("a1"))
        b.at(9_500, .open(cid, pids[1], participants: Array(pids.prefix(2)), active: false))
        b.at(9_600, receive(1, "a1"))
        b.at(29_500, send(1, "b1", after: ["a1"]))
        b.at(59_500, end)
        return (a, b)
    }

    @Test func twoProcessesOfOneMachineInterleaveByTimeAndCheckClean() throws {
        let (a, b) = Self.exchange()
        let (events, outcome) = try Self.merge([try a.write("clean-a"), try b.write("clean-b")])
        #expect(Self.summary(events) == [
            "1000 0 open", "2000 0 send", "10000 1 arrive", "10000 1 open", "10100 1 receive", "30000 1 send",
            "40000 0 arrive", "40100 0 receive", "50000 0 end", "60000 1 end",
        ])
        guard case .header(let h) = events[0].kind else { Issue.record("no header first"); return }
        #expect(h.participants == Array(Self.pids.prefix(2)) && h.conversation == Self.cid && h.clock == "monotonic" && h.seed == nil)
        #expect(h.run == .object([("merged", .array([a.run.json, b.run.json]))]))
        #expect(outcome.complete && outcome.notes.isEmpty && outcome.records == events.count)
        let (verdict, violations) = CheckTests.check(events, complete: outcome.complete)
        #expect(verdict == .valid, "\(violations)")
    }

    /// Files are merged by time whatever their order: host 1's receive of a1 follows host 0's
    /// send of it even when host 1's trace is given first.
    @Test func aReceiveOnOneHostFollowsTheSendOnAnother() throws {
        let (a, b) = Self.exchange()
        let (events, _) = try Self.merge([try b.write("order-b"), try a.write("order-a")])
        let sent = events.firstIndex { $0.kind == Self.send(0, "a1") }!
        let received = events.firstIndex { $0.kind == Self.receive(1, "a1") }!
        #expect(sent < received)
        #expect(CheckTests.check(events).0 == .valid)
    }

    /// Equal times: the file given first, then each file's own order.
    @Test func tiesGoToTheEarlierFileThenRecordOrder() throws {
        var a = Process(host: 0), b = Process(host: 1)
        a.at(100, Self.mark("A1")); a.at(200, Self.mark("A2")); a.at(200, Self.mark("A3")); a.at(300, Self.end)
        b.at(200, Self.mark("B1")); b.at(200, Self.mark("B2")); b.at(300, Self.end)
        let (pa, pb) = (try a.write("ties-a"), try b.write("ties-b"))
        #expect(Self.marks(try Self.merge([pa, pb]).0) == ["A1", "A2", "A3", "B1", "B2"])
        #expect(Self.marks(try Self.merge([pb, pa]).0) == ["A1", "B1", "B2", "A2", "A3"])
    }

    /// Machines are aligned by wall clock at start; processes of one machine keep their shared
    /// monotonic clock even when their wall clocks disagree.
    @Test func differentMachinesAreAlignedByWallClock() throws {
        var a = Process(host: 0, boot: "machine-A", monotonicStart: 1_000_000_000, wallStart: Self.wall)
        a.at(3_000_000, Self.mark("A")); a.at(10_000_000, Self.end)
        // Another machine, up for hours, started 2 ms after a by the wall clock.
        var b = Process(host: 1, boot: "machine-B", monotonicStart: 9_000_000_000_000, wallStart: Self.wall + 2_000_000)
        b.at(500_000, Self.mark("B")); b.at(10_000_000, Self.end)
        // a's machine, 1 ms after a by the shared monotonic clock; its wall clock (stepped
        // meanwhile) says 5 ms, which the merge does not use.
        var c = Process(host: 2, boot: "machine-A", monotonicStart: 1_001_000_000, wallStart: Self.wall + 5_000_000)
        c.at(0, Self.mark("C")); c.at(10_000_000, Self.end)
        let (events, outcome) = try Self.merge([try a.write("wall-a"), try b.write("wall-b"), try c.write("wall-c")])
        #expect(Self.summary(events) == [
            "1000000 2 mark", "2500000 1 mark", "3000000 0 mark", "10000000 0 end", "11000000 2 end", "12000000 1 end",
        ])
        #expect(outcome.notes.count == 1 && outcome.notes[0].contains("2 machines"), "\(outcome.notes)")
    }

    /// Host 2 was killed (no `end`): it becomes a crashed host, and convergence leaves it out.
    /// Had it ended with the same image, the check would fail: the check can fail.
    @Test func aProcessWithoutEndIsACrashedHost() throws {
        var a = Process(host: 0, participants: 3), b = Process(host: 1, participants: 3), c = Process(host: 2, participants: 3)
        a.at(1_000, Self.send(0, "a1")); a.at(2_000, Self.send(0, "a2", after: ["a1"])); a.at(100_000, Self.end)
        b.at(10_000, Self.arrive("a1")); b.at(10_100, Self.receive(1, "a1"))
        b.at(20_000, Self.arrive("a2", after: ["a1"])); b.at(20_100, Self.receive(1, "a2")); b.at(100_000, Self.end)
        c.at(11_000, Self.arrive("a1")); c.at(11_100, Self.receive(2, "a1"))
        let (pa, pb) = (try a.write("crash-a"), try b.write("crash-b"))
        let (events, outcome) = try Self.merge([pa, pb, try c.write("crash-c")])
        let last = events.firstIndex { $0.kind == Self.receive(2, "a1") }!
        #expect(events[last + 1] == TraceEvent(time: 11_100, host: HostID(2), .crash))
        #expect(events.filter { $0.kind == .crash }.count == 1)
        #expect(outcome.complete && outcome.notes.contains { $0.contains("host h2 has no end record") }, "\(outcome.notes)")
        let (verdict, violations) = CheckTests.check(events, complete: outcome.complete)
        #expect(verdict == .valid, "\(violations)")

        c.at(90_000, Self.end)
        let (ended, _) = try Self.merge([pa, pb, try c.write("crash-c-ended")])
        #expect(!ended.contains { $0.kind == .crash })
        let (failed, failures) = CheckTests.check(ended)
        #expect(failed == .invalid)
        #expect(failures.contains { $0.property == "images converge" && $0.witness.contains("h2") }, "\(failures)")
    }

    @Test func headersThatDisagreeAreRejected() throws {
        let a = Process(host: 0)
        var b = Process(host: 1)
        b.conversation = ConversationID(8)
        let (pa, pb) = (try a.write("disagree-a"), try b.write("disagree-b"))
        guard case .disagree(field: "conversation", let detail) = Self.failure([pa, pb]) else { Issue.record("merged"); return }
        #expect(detail == "\(pa) says c7, \(pb) says c8")
        #expect(Self.failure([pa, pb])?.description.contains("not of one run") == true)

        b.conversation = nil  // a header without a conversation says nothing about it
        let (_, outcome) = try Self.merge([pa, try b.write("disagree-b-none")])
        #expect(outcome.header.conversation == Self.cid)

        b.conversation = Self.cid
        b.filters = ["waves"]
        guard case .disagree(field: "filters", _) = Self.failure([pa, try b.write("disagree-b-filters")]) else { Issue.record("merged"); return }

        let sameHost = try Process(host: 0, monotonicStart: 6_000_000_000).write("disagree-same-host")
        guard case .sameHost(HostID(0), pa, sameHost) = Self.failure([pa, sameHost]) else { Issue.record("merged"); return }
    }

    /// Merging is for real runs: a simulation's trace already holds every host.
    @Test func simulationTracesAreNotMerged() throws {
        let (s1, _) = try ExportAndReplayTests.simulation(filters: [], seed: 12)
        let (s2, _) = try ExportAndReplayTests.simulation(filters: [], seed: 13)
        guard case .notARealRun(s1, clock: "virtual") = Self.failure([s1, s2]) else { Issue.record("merged"); return }
        #expect(Self.failure([s1, s2])?.description.contains("simulation") == true)
        let real = try Process(host: 0).write("simulation-real")
        guard case .notARealRun(s2, clock: "virtual") = Self.failure([real, s2]) else { Issue.record("merged"); return }
    }

    /// One file reads exactly as before merging existed.
    @Test func oneSimulationTraceGoesThroughUnchanged() throws {
        let (path, _) = try ExportAndReplayTests.simulation(filters: ["waves"], seed: 12)
        var alone: [String] = [], asList: [String] = []
        let a = try TraceStream.read(path) { alone.append($0.jsonLine) }
        let b = try TraceStream.read([path]) { asList.append($0.jsonLine) }
        #expect(alone == asList && a.records == b.records && b.complete && b.notes.isEmpty && b.header == a.header)
        guard case .unreadable(let missing, .io) = Self.failure([path + ".missing"]) else { Issue.record("read a missing file"); return }
        #expect(missing == path + ".missing")
    }

    /// A process killed mid-frame: its file ends inside a frame. Every complete record is
    /// merged, the host is a crash after the last of them, and the stream is complete.
    @Test func aTruncatedLastFrameIsAKilledProcess() throws {
        var options = LZ4TraceWriter.Options()
        options.maxFrameRecords = 2
        let (a, _) = Self.exchange()
        var b = Process(host: 1, monotonicStart: 5_000_000_500)
        b.at(9_500, Self.arrive("a1")); b.at(9_600, Self.receive(1, "a1"))
        b.at(29_500, Self.send(1, "b1", after: ["a1"])); b.at(29_600, Self.mark("then"))
        // The last frame's records, lost in the cut.
        let complete = b
        b.at(39_500, Self.mark("lost")); b.at(39_600, Self.mark("lost too"))
        let frames = try complete.write("cut-complete", options: options)
        let path = try b.write("cut", options: options)
        let cutAt = try Data(contentsOf: URL(fileURLWithPath: frames)).count
        let whole = try Data(contentsOf: URL(fileURLWithPath: path))
        try whole.prefix(cutAt + 8).write(to: URL(fileURLWithPath: path))

        let (events, outcome) = try Self.merge([try a.write("cut-a"), path])
        #expect(outcome.complete, "\(String(describing: outcome.error))")
        #expect(outcome.notes.contains { $0.contains("cut inside its last frame at byte \(cutAt)") }, "\(outcome.notes)")
        #expect(Self.marks(events) == ["then"])
        let then = events.firstIndex { $0.kind == Self.mark("then") }!
        #expect(events[then + 1] == TraceEvent(time: 30_100, host: HostID(1), .crash))
    }

    /// Damage that loses records the process wrote leaves the merged stream incomplete, cut
    /// where the damaged file's records stop: the checker cannot tell (host 0's receive of b1,
    /// whose send is lost, is not merged to read as a violation), and the damaged host is not
    /// taken for a crashed one.
    @Test func aCorruptFileCutsTheMergeAtTheDamage() throws {
        var options = LZ4TraceWriter.Options()
        options.maxFrameRecords = 2
        let (a, b) = Self.exchange()
        // Frames of b: the header; arrive a1 and open; receive a1 and send b1 (damaged); end.
        var before = b
        before.records.removeLast(3)
        let start = try Data(contentsOf: URL(fileURLWithPath: try before.write("corrupt-before", options: options))).count
        let path = try b.write("corrupt", options: options)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[start + 15] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: path))

        let (events, outcome) = try Self.merge([try a.write("corrupt-a"), path])
        guard case .corrupt = outcome.error else { Issue.record("\(String(describing: outcome.error))"); return }
        #expect(outcome.errorPath == path)
        #expect(Self.summary(events) == ["1000 0 open", "2000 0 send", "10000 1 arrive", "10000 1 open"])
        let (verdict, violations) = CheckTests.check(events, complete: outcome.complete)
        guard case .undetermined = verdict else { Issue.record("\(verdict): \(violations)"); return }
    }
}

/// The merged stream `psync trace cat A B C` writes of a real run, saved to a file, reads as a
/// whole run (its end records say `done`, as real runs' do; only a simulation's must say
/// `quiescent`): Traces/real-run-merged.jsonl.lz4 gave exit 2 from `trace stats`.
@Suite struct SavedMergeTests {
    @Test func aSavedMergedRealRunReadsWhole() throws {
        let path = DotTests.repository.appendingPathComponent("Traces/real-run-merged.jsonl.lz4").path
        var ends = 0
        let outcome = try TraceStream.read(path) { if case .end = $0.kind { ends += 1 } }
        #expect(outcome.header.clock == "monotonic" && ends == 3)
        #expect(outcome.complete, "\(outcome.incompleteness ?? "")")
    }
}
