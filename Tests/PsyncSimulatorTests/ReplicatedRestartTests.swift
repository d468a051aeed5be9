import Testing
import Psync
import PsyncSimulator
import PsyncTrace

/// Section 5 under a total-order stack: a replicated state machine (`Workload.Pattern
/// .replicated`) whose participant crashes and comes back, re-executing (5.2) or from a
/// checkpoint of its application (5.1; the filters run again over the image). Its filters'
/// acknowledgements are replayed from the image (`FilterStack`), its commands are suppressed as
/// duplicates, and it ends in exactly the state of the others. A failure prints its seed and the command that
/// reproduces it.
@Suite struct ReplicatedRestartTests {
    static func config(seed: UInt64, messages: Int) -> SimulationConfig {
        var rng = SplitMix64(seed: seed &* 0x5851_F42D_4C95_7F2D)
        let n = 3 + Int(rng.next() % 3)
        let host = UInt32(rng.next() % UInt64(n))
        let crash = 20_000_000 + rng.next() % (UInt64(messages) * 4_000_000)
        let stacks = [["waves"], ["causal", "waves"], ["depth-first"]]
        var engine = HostConfig()
        engine.reclaimsPayloads = seed % 2 == 1
        return SimulationConfig(
            seed: seed, participants: n,
            workload: Workload(messagesPerParticipant: messages, pattern: .replicated),
            network: NetworkModel(link: LinkModel(lossProbability: Double(rng.next() % 10) / 100)),
            faults: FaultSchedule(crashes: [Crash(host: host, atNanoseconds: crash)],
                                  restarts: [HostRestart(host: host, atNanoseconds: crash + 30_000_000 + rng.next() % 300_000_000,
                                                         mode: seed % 4 < 2 ? .reexecute : .checkpoint, log: rng.next() % 2 == 0)]),
            host: engine, filters: stacks[Int(seed % 3)])
    }

    static func check(seeds: Range<UInt64>, messages: Int) {
        var failures: [String] = []
        var modes: Set<String> = []
        for seed in seeds {
            let config = config(seed: seed, messages: messages)
            let r = config.faults.restarts[0]
            modes.insert("\(config.filters.joined(separator: ",")) \(r.mode.rawValue)\(r.log ? "+log" : "")")
            let failure = SeedSweep.failure(config) { result in
                let applied = Set(result.replicas.map(\.applied))
                guard applied.count != 1 || (config.filters != ["depth-first"] && applied.first != config.participants * messages)
                else { return [] }
                return ["replicas applied \(result.replicas.map(\.applied))"]
            }
            if let failure { failures.append(failure) }
        }
        SeedSweep.expectNone(failures)
        #expect(modes.count == 12, "every stack, both modes, with and without the log: \(modes.sorted())")
    }

    @Test func restartedReplicasEndInTheOthersState() {
        Self.check(seeds: 0..<48, messages: 30)
    }

    /// One run, traced: the restarted participant sends its old messages again, data and
    /// acknowledgements alike, each suppressed once; every other host tells its participant of
    /// the restart once; the replicas agree, and the checker rejects replicas that do not.
    @Test func reexecutionReplaysAcknowledgementsAndEveryReplicaAgrees() {
        let sink = MemoryTraceSink()
        let config = SimulationConfig(
            seed: 7, participants: 4, workload: Workload(messagesPerParticipant: 40, pattern: .replicated),
            network: NetworkModel(link: LinkModel(lossProbability: 0.05)),
            faults: FaultSchedule(crashes: [Crash(host: 2, atNanoseconds: 80_000_000)],
                                  restarts: [HostRestart(host: 2, atNanoseconds: 300_000_000, mode: .reexecute, log: false)]),
            filters: ["waves"])
        var result = Simulator(config, trace: sink).run()
        #expect((Checker.check(result) + FilterChecker.check(result)).map(\.description) == [])
        #expect(Set(result.replicas).count == 1 && result.replicas[0].applied == 160)

        var sentBefore: [String: String] = [:]
        var suppressed: [String] = []
        var notified: [UInt32] = []
        for e in sink.events {
            switch e.kind {
            case .send(_, let p, let m, _, _, let content) where p.host.rawValue == 2 && e.time < 80_000_000:
                sentBefore[m.description] = content
            case .other("resend_suppressed", let fields):
                suppressed.append(fields.first { $0.0 == "mid" }?.1.string ?? "")
            case .other("restart_notified", let fields):
                #expect(fields.first { $0.0 == "restarted" }?.1.string == "p2")
                notified.append(e.host?.rawValue ?? 99)
            default: break
            }
        }
        #expect(notified.sorted() == [0, 1, 3], "each other host is told once")
        #expect(Set(suppressed).count == suppressed.count, "each old message is sent again once")
        #expect(Set(suppressed).isSubset(of: sentBefore.keys))
        // What the first incarnation sent in its last few milliseconds may have reached nobody.
        #expect(suppressed.count * 10 >= sentBefore.count * 9, "\(suppressed.count) of \(sentBefore.count) sent again")
        let kinds = Set(suppressed.compactMap { sentBefore[$0] })
        #expect(kinds == ["data", "control"], "acknowledgements are replayed as well as commands: \(kinds)")

        result.replicas[1] = ReplicatedRegisters()
        #expect(!Checker.replicatedState(result).isEmpty)
    }

    /// A re-executed application that sends something its first execution did not is reported.
    @Test func aNondeterministicReexecutionIsReported() {
        let config = SimulationConfig(
            seed: 3, participants: 3, workload: Workload(messagesPerParticipant: 20, pattern: .replicated),
            faults: FaultSchedule(crashes: [Crash(host: 1, atNanoseconds: 60_000_000)],
                                  restarts: [HostRestart(host: 1, atNanoseconds: 200_000_000, mode: .reexecute, log: true)]),
            filters: ["waves"])
        let sim = Simulator(config)
        sim.at(200_000_001) { $0.sendAsApplication(participant: 1, [0, 0x62] + Array(repeating: 0xEE, count: 30)) }
        let result = sim.run()
        #expect(Checker.reexecution(result).map(\.description).first?.hasPrefix("re-execution: p1 diverged at b") == true)
    }

    /// Swarm seeds that found, in turn: a command type swapped for an ACK under a lost id, an
    /// old message held at a peer that missed the RS taking the new one's place, an ACK owed
    /// after the last replayed message never sent, a restarted host waiting for its old
    /// messages' arrival with nothing to wake it (re-executions); an ACK queued while catching
    /// up and dropped when the old messages came (from a checkpoint).
    @Test(arguments: [(2829, .reexecute), (3027, .reexecute), (6532, .reexecute), (7520, .reexecute), (8339, .reexecute),
                      (23234, .checkpoint)] as [(UInt64, HostRestart.Mode)])
    func swarmFindingsStayFixed(seed: UInt64, mode: HostRestart.Mode) {
        var config = Swarm.config(seed: seed)
        #expect(config.workload.pattern == .replicated && !config.faults.restarts.isEmpty)
        config.faults.restarts[0].mode = mode  // as it was drawn when the seed failed
        let violations = Swarm.violations(config).prefix(3).map(\.description)
        #expect(violations.isEmpty, "\(violations); reproduce: psync simulate --swarm --seed \(seed) --runs 1")
    }

    /// A checkpoint taken after a command sent into a partition, lost with its host's crash,
    /// would restore an application that believes the command sent: it is kept only once its
    /// command is stable (`Simulator.commitCheckpoint`), and the restart uses an older one.
    @Test func aCheckpointNamingALostCommandIsNotUsed() {
        var link = LinkModel(delay: .constant(nanoseconds: 1_000_000))
        link.reorderProbability = 0.3
        let config = SimulationConfig(
            seed: 14_498_445_045_350_728_547, participants: 5,
            workload: Workload(messagesPerParticipant: 13, pattern: .replicated), network: NetworkModel(link: link),
            faults: FaultSchedule(partitions: [Partition(side: [1], startNanoseconds: 126_460_097, healNanoseconds: 617_989_184)],
                                  crashes: [Crash(host: 1, atNanoseconds: 230_369_222)],
                                  restarts: [HostRestart(host: 1, atNanoseconds: 499_921_727, mode: .checkpoint, log: true)]),
            filters: ["waves"])
        let result = Simulator(config).run()
        #expect((Checker.check(result) + FilterChecker.check(result)).map(\.description) == [])
        #expect(result.replicas.allSatisfy { $0.applied == 65 })
    }

    @Test func whatCannotBeReexecutedIsRefused() {
        func problems(_ filters: [String], _ mode: HostRestart.Mode = .reexecute, payload: Int = 32) -> [String] {
            SimulationConfig(participants: 3, workload: Workload(payloadBytes: payload, pattern: .replicated),
                             faults: FaultSchedule(crashes: [Crash(host: 1, atNanoseconds: 1)],
                                                   restarts: [HostRestart(host: 1, atNanoseconds: 2, mode: mode, log: false)]),
                             filters: filters).problems()
        }
        #expect(problems(["waves"]).isEmpty)
        #expect(problems(["causal"]).contains { $0.contains("total order") })
        #expect(problems(["quorum"]).contains { $0.contains("total order") })
        #expect(problems(["waves"], .checkpoint).isEmpty)
        #expect(problems(["waves", "membership"]).contains { $0.contains("no membership") })
        #expect(problems(["waves"], payload: 9).contains { $0.contains("10 bytes") })
    }
}

/// The same at length (release build, `PSYNC_LONG_RUN=1`): 150 commands per participant, so
/// that a restarted participant's catch-up crosses the retransmission batch limit.
@Suite(.enabled(if: LongRun.enabled, "long runs need the release build: PSYNC_LONG_RUN=1 (Tools/test.sh sets it)"))
struct LongRunReplicatedRestartTests {
    @Test func longReplicatedRunsWithRestartsAgree() {
        ReplicatedRestartTests.check(seeds: 100..<148, messages: 150)
    }
}
