import Testing
import Psync
import PsyncAnalysis
import PsyncSimulator
import PsyncTrace

/// `psync trace check` accepts clean traces and catches injected violations with a witness.
@Suite struct CheckTests {
    static func trace(seed: UInt64, filters: [String] = [], loss: Double = 0.1) -> [TraceEvent] {
        let sink = MemoryTraceSink()
        var config = SimulationConfig(seed: seed, participants: 2 + Int(seed % 3), filters: filters)
        config.workload.messagesPerParticipant = 4
        config.network.link.lossProbability = loss
        config.network.link.reorderProbability = 0.1
        Simulator(config, trace: sink).run()
        return sink.events
    }

    static func check(_ events: [TraceEvent], complete: Bool = true) -> (TraceChecker.Verdict, [TraceChecker.Violation]) {
        var checker = TraceChecker()
        for e in events { checker.observe(e) }
        let verdict = checker.finish(complete: complete)
        return (verdict, checker.violations)
    }

    @Test func cleanTracesFromManySeedsAreValid() {
        for seed in UInt64(0)..<200 {
            let (verdict, violations) = Self.check(Self.trace(seed: seed, filters: seed % 2 == 0 ? ["waves"] : []))
            #expect(verdict == .valid, "seed \(seed): \(violations.prefix(2))")
        }
    }

    @Test func aReorderedReceiveIsCaught() {
        var events = Self.trace(seed: 1)
        // Move a receive before the receive of its predecessor at the same participant.
        let receives = events.indices.filter { if case .receive = events[$0].kind { true } else { false } }
        func sendIndex(_ m: MessageID) -> Int { events.firstIndex { if case .send(_, _, let x, _, _, _) = $0.kind { x == m } else { false } }! }
        let (i, j) = receives.lazy.flatMap { i in receives.lazy.filter { $0 > i }.map { (i, $0) } }.first { i, j in
            guard case .receive(_, let p, let a) = events[i].kind, case .receive(_, let q, let b) = events[j].kind,
                  p == q, sendIndex(b) < i, case .send(_, _, _, let preds, _, _) = events[sendIndex(b)].kind else { return false }
            return preds.contains(a)
        }!
        let moved = events.remove(at: j)
        events.insert(moved, at: i)
        let (verdict, violations) = Self.check(events)
        #expect(verdict == .invalid)
        #expect(violations.contains { $0.property == "receive after context" && $0.witness.contains("before its predecessor") }, "\(violations)")
    }

    @Test func aMissingMessageIsCaught() {
        var events = Self.trace(seed: 2)
        let arrive = events.lastIndex { if case .arrive = $0.kind { true } else { false } }!
        events.remove(at: arrive)
        let (verdict, violations) = Self.check(events)
        #expect(verdict == .invalid)
        #expect(violations.contains { $0.property == "images converge" })
    }

    @Test func aDisagreeingTotalOrderIsCaught() {
        var events = Self.trace(seed: 4, filters: ["waves"])
        let delivers = events.indices.filter { if case .other("deliver", _) = events[$0].kind { true } else { false } }
        // Swap the messages of two consecutive deliveries of one participant.
        func participant(_ i: Int) -> String? { if case .other(_, let f) = events[i].kind { f.first { $0.0 == "p" }?.1.string } else { nil } }
        let (a, b) = zip(delivers, delivers.dropFirst()).first { participant($0) == participant($1) }!
        guard case .other(let n1, var f1) = events[a].kind, case .other(let n2, var f2) = events[b].kind else { Issue.record("no deliveries"); return }
        let k1 = f1.firstIndex { $0.0 == "mid" }!, k2 = f2.firstIndex { $0.0 == "mid" }!
        (f1[k1].1, f2[k2].1) = (f2[k2].1, f1[k1].1)
        events[a].kind = .other(name: n1, fields: f1)
        events[b].kind = .other(name: n2, fields: f2)
        let (verdict, violations) = Self.check(events)
        #expect(verdict == .invalid)
        #expect(violations.contains { $0.property == "waves: total order" })
    }

    @Test func earlyStabilityIsCaught() {
        var events = Self.trace(seed: 3)
        let stable = events.firstIndex { if case .stable = $0.kind { true } else { false } }!
        guard case .stable(_, _, let m) = events[stable].kind else { return }
        let sent = events.firstIndex { if case .send(_, _, let x, _, _, _) = $0.kind { x == m } else { false } }!
        let moved = events.remove(at: stable)
        events.insert(moved, at: sent + 1)
        let (verdict, violations) = Self.check(events)
        #expect(verdict == .invalid)
        #expect(violations.contains { $0.property.hasPrefix("stability") }, "\(violations)")
    }

    @Test func anIncompleteTraceCannotBeDecided() {
        let events = Self.trace(seed: 5)
        let (verdict, _) = Self.check(Array(events.prefix(events.count / 2)), complete: false)
        guard case .undetermined = verdict else { Issue.record("\(verdict)"); return }
    }
}

/// `psync trace replay --verify`.
@Suite struct ReplayTests {
    @Test func freshTracesVerifyAndAnEditedOneDoesNot() throws {
        let path = temporaryPath("replay.jsonl.lz4")
        let writer = try LZ4TraceWriter(path: path)
        var config = SimulationConfig(seed: 8, participants: 3, filters: ["waves"])
        config.network.link.lossProbability = 0.1
        Simulator(config, trace: writer).run()
        try writer.close()
        guard case .identical(let n) = try ReplayVerifier.verify(path) else { Issue.record("a fresh trace diverged"); return }
        #expect(n == writer.recordsWritten)

        var (header, events) = try TraceReader.readAll(path: path)
        // An edit the reader cannot see (time still runs forwards): a record moved to another host.
        let k = try #require(events.indices.first { $0 >= events.count / 2 && events[$0].host != nil })
        events[k].host = HostID((events[k].host!.rawValue + 1) % 3)
        let edited = temporaryPath("edited.jsonl.lz4")
        try PaperTraces.write([TraceEvent(time: 0, host: nil, .header(header))] + events, to: edited)
        guard case .diverged(let d) = try ReplayVerifier.verify(edited) else { Issue.record("an edited trace verified"); return }
        #expect(d.record == k + 2)
        #expect(d.inTrace != d.inReplay)
        header.run = .null
        let noConfig = temporaryPath("no-config.jsonl.lz4")
        try PaperTraces.write([TraceEvent(time: 0, host: nil, .header(header))], to: noConfig)
        #expect(throws: ReplayVerifier.Failure.self) { try ReplayVerifier.verify(noConfig) }
    }
}

/// `psync trace check` on runs with restarts (Section 5): a restarted host's image is rebuilt and
/// its participant receives again what followed its checkpoint (or everything, re-executing):
/// valid. Without the `restart` record, a re-execution's trace shows messages received twice.
@Suite struct RestartCheckTests {
    static func trace(seed: UInt64, mode: HostRestart.Mode) -> [TraceEvent] {
        let sink = MemoryTraceSink()
        var engine = HostConfig()
        engine.reclaimsPayloads = false
        let config = SimulationConfig(
            seed: seed, participants: 3, workload: Workload(messagesPerParticipant: 10, acknowledges: false, pattern: .ring),
            network: NetworkModel(link: LinkModel(lossProbability: 0.05)),
            faults: FaultSchedule(crashes: [Crash(host: 1, atNanoseconds: 120_000_000)],
                                  restarts: [HostRestart(host: 1, atNanoseconds: 400_000_000, mode: mode)]),
            host: engine)
        Simulator(config, trace: sink).run()
        return sink.events
    }

    @Test(arguments: [HostRestart.Mode.reexecute, .checkpoint])
    func tracesWithRestartsCheckClean(_ mode: HostRestart.Mode) {
        for seed in UInt64(0)..<12 {
            let events = Self.trace(seed: seed, mode: mode)
            let (verdict, violations) = CheckTests.check(events)
            #expect(verdict == .valid, "seed \(seed): \(violations.prefix(2))")
            guard mode == .reexecute else { continue }
            let withoutRestart = events.filter { if case .other("restart", _) = $0.kind { false } else { true } }
            let (tampered, found) = CheckTests.check(withoutRestart)
            #expect(tampered == .invalid && found.contains { $0.property == "receive once" }, "seed \(seed)")
        }
    }
}

/// `psync trace stats` on runs with restarts: one `recover` time per restart, from the restart
/// record to the arrival that completed the host's image, matching the trace.
@Suite struct RestartStatsTests {
    @Test func timeToRecoverIsMeasuredPerRestart() throws {
        for seed in UInt64(0)..<6 {
            let events = RestartCheckTests.trace(seed: seed, mode: .reexecute)
            var stats = TraceStatistics()
            for e in events { stats.observe(e) }
            #expect(stats.counts["restarts"] == 1)
            let recover = try #require(stats.metrics["recover"], "seed \(seed)")
            #expect(recover.overall.totalCount == 1)
            let restartTime = events.first { if case .other("restart", _) = $0.kind { true } else { false } }!.time
            let lastArrival = events.last { $0.host == HostID(1) && { if case .arrive = $0.kind { true } else { false } }($0) }!.time
            // Recovered at some arrival at host 1 after the restart, no later than its last one.
            #expect(recover.overall.max >= 1 && UInt64(recover.overall.max) <= (lastArrival - restartTime) * 1001 / 1000 + 1)
        }
    }
}

/// `psync trace dot` marks each restart in the restarted participant's lane, after the last of
/// its messages the graph held then, and renders without a warning.
@Suite struct RestartDotTests {
    @Test func restartsAreMarkedInTheirLane() throws {
        let events = RestartCheckTests.trace(seed: 2, mode: .reexecute)
        var exporter = DotExporter()
        for e in events { exporter.observe(e) }
        let text = exporter.dot()
        #expect(text.split(separator: "\n").filter { $0.hasPrefix("  restart_") }.count == 1)
        func y(_ name: String) -> Substring? {
            text.split(separator: "\n").first { $0.hasPrefix("  \(name) [") }?.split(separator: "pos=\"").last?.split(separator: ",").last
        }
        #expect(y("restart_1_0") != nil && y("restart_1_0") == y("lane_1"), "the marker sits in b's lane")
        #expect(try DotTests.render(text).isEmpty)
    }
}
