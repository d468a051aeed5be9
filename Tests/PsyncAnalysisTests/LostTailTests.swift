import Foundation
import Testing
import Psync
import PsyncAnalysis
import PsyncSimulator
import PsyncTrace

/// A process killed with kill -9 loses its last unflushed trace frame; messages it sent in that
/// time are learned from other hosts' `arrive` records (`TraceGraph.learned`), so the merged
/// trace checks clean, while contradictions and simulations stay strict.
@Suite struct LostTailTests {
    typealias M = MergeTests
    static let three = Array(M.pids.prefix(3))

    /// Hosts 0 and 2 of a three-host run on one machine (merged t = offset). Host 1 sends b1 and
    /// b2; both reach hosts 0 and 2; host 0 answers a2, host 2 then c1, and host 0 sees b2 stable.
    /// `b2At0`, `b2At2`: the predecessors hosts 0 and 2 record b2 arriving with.
    static func survivors(b2At0: [String] = ["b1"], b2At2: [String] = ["b1"]) -> (M.Process, M.Process) {
        var a = M.Process(host: 0, participants: 3)
        a.at(1_000, .open(M.cid, M.pids[0], participants: three, active: true))
        a.at(2_000, M.send(0, "a1"))
        a.at(40_000, M.arrive("b1", after: ["a1"])); a.at(40_100, M.receive(0, "b1"))
        a.at(60_000, M.arrive("b2", after: b2At0)); a.at(60_100, M.receive(0, "b2"))
        a.at(70_000, M.send(0, "a2", after: ["b2"]))
        a.at(100_000, M.arrive("c1", after: ["a2"])); a.at(100_100, M.receive(0, "c1"))
        a.at(100_200, .stable(M.cid, M.pids[0], M.mid("b2")))
        a.at(200_000, M.end)
        var c = M.Process(host: 2, participants: 3)
        c.at(11_000, M.arrive("a1")); c.at(11_000, .open(M.cid, M.pids[2], participants: three, active: false))
        c.at(11_100, M.receive(2, "a1"))
        c.at(41_000, M.arrive("b1", after: ["a1"])); c.at(41_100, M.receive(2, "b1"))
        c.at(61_000, M.arrive("b2", after: b2At2)); c.at(61_100, M.receive(2, "b2"))
        c.at(80_000, M.arrive("a2", after: ["b2"])); c.at(80_100, M.receive(2, "a2"))
        c.at(90_000, M.send(2, "c1", after: ["a2"]))
        c.at(200_000, M.end)
        return (a, c)
    }

    /// Host 1, killed after sending b2: its file is cut inside the frame holding its send of b2
    /// (frames of two records: arrive a1 and open; receive a1 and send b1; send b2 and a mark).
    static func killedHost(_ name: String) throws -> String {
        var options = LZ4TraceWriter.Options()
        options.maxFrameRecords = 2
        var b = M.Process(host: 1, participants: 3)
        b.at(10_000, M.arrive("a1")); b.at(10_000, .open(M.cid, M.pids[1], participants: three, active: false))
        b.at(10_100, M.receive(1, "a1")); b.at(30_000, M.send(1, "b1", after: ["a1"]))
        let flushed = b
        b.at(50_000, M.send(1, "b2", after: ["b1"])); b.at(50_100, M.mark("lost"))
        let cutAt = try Data(contentsOf: URL(fileURLWithPath: try flushed.write("\(name)-flushed", options: options))).count
        let path = try b.write(name, options: options)
        let whole = try Data(contentsOf: URL(fileURLWithPath: path))
        try whole.prefix(cutAt + 8).write(to: URL(fileURLWithPath: path))
        return path
    }

    static func checker(_ events: [TraceEvent], complete: Bool = true) -> (TraceChecker, TraceChecker.Verdict) {
        var checker = TraceChecker()
        for e in events { checker.observe(e) }
        let verdict = checker.finish(complete: complete)
        return (checker, verdict)
    }

    @Test func messagesLostWithAKilledProcessesTraceTailAreLearnedFromArrivals() throws {
        let (a, c) = Self.survivors()
        let (events, outcome) = try M.merge([try a.write("tail-a"), try Self.killedHost("tail-b"), try c.write("tail-c")])
        #expect(outcome.complete && outcome.notes.contains { $0.contains("cut inside its last frame") }, "\(outcome.notes)")
        #expect(!events.contains { if case .send(_, _, M.mid("b2"), _, _, _) = $0.kind { true } else { false } })
        #expect(events.contains { $0.kind == .crash && $0.host == HostID(1) })

        let (checker, verdict) = Self.checker(events, complete: outcome.complete)
        #expect(verdict == .valid, "\(checker.violations)")
        #expect(checker.graph.learned.keys.sorted() == [M.mid("b2")])
        #expect(checker.graph.learned[M.mid("b2")]?.host == HostID(0) && checker.graph.learned[M.mid("b2")]?.time == 60_000)
        #expect(checker.graph.predecessors(of: M.mid("b2")) == [M.mid("b1")])
        #expect(checker.graph.sendTime(M.mid("b2")) == nil && checker.graph.sendTime(M.mid("b1")) == 30_000)
        #expect(checker.graph.precedes(M.mid("b1"), M.mid("c1")) && checker.graph.precedes(M.mid("b2"), M.mid("c1")))

        // Statistics: every receive is counted, but b2's arrivals and receives have no send to
        // measure from.
        var stats = TraceStatistics()
        for e in events { stats.observe(e) }
        #expect(stats.counts["receives"] == 8)
        #expect(stats.metrics["receive"]?.overall.totalCount == 6)
        #expect(stats.metrics["arrive"]?.overall.totalCount == 6)

        var dot = DotExporter()
        for e in events { dot.observe(e) }
        let text = dot.dot()
        #expect(text.contains("\"b1\" -> \"b2\";") && text.contains("\"b2\" -> \"a2\";"), "\(text)")
    }

    /// Only a crashed host's trace may have lost its sends: had host 1 ended on purpose without
    /// recording b2's send, the check says so.
    @Test func aSendMissingFromAHostThatEndedOnPurposeIsAViolation() throws {
        let (a, c) = Self.survivors()
        var b = M.Process(host: 1, participants: 3)
        b.at(10_000, M.arrive("a1")); b.at(10_000, .open(M.cid, M.pids[1], participants: Self.three, active: false))
        b.at(10_100, M.receive(1, "a1")); b.at(30_000, M.send(1, "b1", after: ["a1"]))
        b.at(200_000, M.end)
        let (events, outcome) = try M.merge([try a.write("ended-a"), try b.write("ended-b"), try c.write("ended-c")])
        let (checker, verdict) = Self.checker(events, complete: outcome.complete)
        #expect(verdict == .invalid)
        // (Host 1's image lacks what it missed, too.)
        #expect(checker.violations.map(\.property) == ["send", "images converge"], "\(checker.violations)")
        #expect(checker.violations.first?.witness == "h0 recorded the arrival of b2, whose sender p1 never recorded sending it and did not crash")
    }

    /// A send record that comes after an arrival (host 1's clock is on another machine, 25 µs
    /// behind) confirms what the arrival taught, or contradicts it.
    @Test func aLaterSendConfirmsOrContradictsAnArrival() throws {
        let (a, c) = Self.survivors()
        func host1(sendingB2After preds: [String]) -> M.Process {
            var b = M.Process(host: 1, boot: "machine-B", participants: 3)
            b.wallStart = M.wall + 25_000
            b.at(10_000, M.arrive("a1")); b.at(10_000, .open(M.cid, M.pids[1], participants: Self.three, active: false))
            b.at(10_100, M.receive(1, "a1")); b.at(30_000, M.send(1, "b1", after: ["a1"]))
            b.at(50_000, M.send(1, "b2", after: preds))
            return b
        }
        let (pa, pc) = (try a.write("later-a"), try c.write("later-c"))

        let (agreeing, outcome) = try M.merge([pa, try host1(sendingB2After: ["b1"]).write("later-b"), pc])
        let arrived = agreeing.firstIndex { $0.kind == M.arrive("b2", after: ["b1"]) }!
        let sent = agreeing.firstIndex { $0.kind == M.send(1, "b2", after: ["b1"]) }!
        #expect(arrived < sent)
        let (checker, verdict) = Self.checker(agreeing, complete: outcome.complete)
        #expect(verdict == .valid, "\(checker.violations)")
        #expect(checker.graph.learned.isEmpty && checker.graph.sendTime(M.mid("b2")) == agreeing[sent].time)

        let (contradicting, _) = try M.merge([pa, try host1(sendingB2After: ["a1", "b1"]).write("later-b-wrong"), pc])
        let (wrong, wrongVerdict) = Self.checker(contradicting)
        #expect(wrongVerdict == .invalid)
        // The send's extra edge is redundant too (a1 precedes b1), which the checker says first.
        #expect(wrong.violations.map(\.property) == ["transitive reduction", "graph"], "\(wrong.violations)")
        #expect(wrong.violations.last?.witness == "p1 sent b2 with predecessors [a1, b1], but h0 recorded its arrival with [b1]")
    }

    /// Two hosts recording a lost message's arrival with different predecessors contradict each
    /// other.
    @Test func arrivalsThatDisagreeAreAViolation() throws {
        let (a, c) = Self.survivors(b2At0: ["b1"], b2At2: ["a1", "b1"])
        let (events, outcome) = try M.merge([try a.write("disagree-arrive-a"), try Self.killedHost("disagree-arrive-b"), try c.write("disagree-arrive-c")])
        let (checker, verdict) = Self.checker(events, complete: outcome.complete)
        #expect(verdict == .invalid)
        #expect(checker.violations.map(\.property) == ["graph"], "\(checker.violations)")
        #expect(checker.violations.first?.witness == "h2 recorded the arrival of b2 with predecessors [a1, b1], but an earlier arrival of it says [b1]")
    }

    /// A simulation records every send before its arrivals: a receive of a message that nobody
    /// sent nor recorded arriving is still caught, and so is a send record missing behind its
    /// arrivals, even from a crashed host.
    @Test func simulationsStayStrict() {
        var events = CheckTests.trace(seed: 2)
        let receive = events.firstIndex { if case .receive = $0.kind { true } else { false } }!
        guard case .receive(let cid, let p, _) = events[receive].kind else { return }
        events.insert(TraceEvent(time: events[receive].time, host: events[receive].host, .receive(cid, p, MessageID(sender: 0, sequence: 99))), at: receive + 1)
        let (verdict, violations) = CheckTests.check(events)
        #expect(verdict == .invalid)
        #expect(violations.contains { $0.property == "receive" && $0.witness.hasSuffix("received a99, which nobody sent") }, "\(violations)")

        // Host 1 crashes; the send record of its last message that another host got is removed.
        let sink = MemoryTraceSink()
        var config = SimulationConfig(seed: 3, participants: 3)
        config.workload.messagesPerParticipant = 6
        config.faults.crashes = [Crash(host: 1, atNanoseconds: 20_000_000)]
        Simulator(config, trace: sink).run()
        var crashed = sink.events
        #expect(crashed.contains { $0.kind == .crash && $0.host == HostID(1) })
        #expect(CheckTests.check(crashed).0 == .valid)
        let arrived = Set(crashed.compactMap { e -> MessageID? in
            if case .arrive(_, let m, _) = e.kind, m.senderIndex == 1 { m } else { nil }
        })
        let send = crashed.lastIndex { if case .send(_, _, let m, _, _, _) = $0.kind { arrived.contains(m) } else { false } }!
        guard case .send(_, _, let lost, _, _, _) = crashed[send].kind else { return }
        crashed.remove(at: send)
        let (crashVerdict, crashViolations) = CheckTests.check(crashed)
        #expect(crashVerdict == .invalid)
        #expect(crashViolations.contains { $0.property == "send" && $0.witness.contains("arrival of \(lost), whose sender p1 never recorded sending it") },
                "\(crashViolations)")
    }
}
