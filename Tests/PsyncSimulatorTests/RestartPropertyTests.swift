import Testing
import Psync
import PsyncSimulator

/// Section 5 in simulation, over many seeds: a host crashes and comes back, its participant
/// restarting by re-execution or from its latest checkpoint, with and without its log, under
/// loss; with buffers kept, or freed once every host holds them (odd seeds), when the others
/// serve the restarted host what it lost from their logs. The application is the ring without acknowledgements (its sends follow its receives:
/// deterministic, as Section 5.2 requires), so every participant's history, the replicated
/// state, must end identical, and every image must converge. A failure prints its seed and the
/// command that reproduces it.
@Suite struct RestartPropertyTests {
    static func config(seed: UInt64, messages: Int) -> SimulationConfig {
        var rng = SplitMix64(seed: seed &* 0x2545_F491_4F6C_DD1D)
        let n = 3 + Int(rng.next() % 3)
        let host = UInt32(rng.next() % UInt64(n))
        let crash = 50_000_000 + rng.next() % 300_000_000
        let mode: HostRestart.Mode = rng.next() % 2 == 0 ? .reexecute : .checkpoint
        var engine = HostConfig()
        engine.reclaimsPayloads = seed % 2 == 1
        return SimulationConfig(
            seed: seed, participants: n,
            workload: Workload(messagesPerParticipant: messages, acknowledges: false, pattern: .ring),
            network: NetworkModel(link: LinkModel(lossProbability: Double(rng.next() % 10) / 100)),
            faults: FaultSchedule(crashes: [Crash(host: host, atNanoseconds: crash)],
                                  restarts: [HostRestart(host: host, atNanoseconds: crash + 100_000_000 + rng.next() % 400_000_000,
                                                         mode: mode, log: rng.next() % 2 == 0)]),
            host: engine)
    }

    static func check(seeds: Range<UInt64>, messages: Int) {
        var failures: [String] = []
        var modes: Set<String> = []
        for seed in seeds {
            let config = config(seed: seed, messages: messages)
            let r = config.faults.restarts[0]
            modes.insert("\(r.mode.rawValue)\(r.log ? "+log" : "")\(config.host.reclaimsPayloads ? "+reclaim" : "")")
            let failure = SeedSweep.failure(config) { result in
                var problems: [String] = []
                if result.dataSent != config.participants * messages { problems.append("sent \(result.dataSent) data messages") }
                if !result.histories.allSatisfy({ $0 == result.histories[0] }) { problems.append("histories differ") }
                return problems
            }
            if let failure { failures.append(failure) }
        }
        SeedSweep.expectNone(failures)
        #expect(modes.count == 8, "every mode, with and without the log, buffers kept and freed: \(modes.sorted())")
    }

    @Test func restartedParticipantsCatchUpAndAgree() {
        Self.check(seeds: 0..<32, messages: 20)
    }

    /// With the threshold Θ (`retainedNodes`), the others reclaimed the nodes of what every host
    /// held before the crash; a restarted host without its log gets them back from the others'
    /// logs (`ConversationImage.storedAnswer`), in batches (the ring's 3 x 120 messages cross
    /// the batch limit of 256). Ring (both restart modes) and the replicated state machine
    /// under waves (re-executed and from a checkpoint), up to 9% loss.
    @Test func nodesReclaimedByTheThresholdAreServedFromTheOthersLogs() {
        var failures: [String] = []
        for seed in UInt64(0)..<16 {
            var config = Self.config(seed: seed, messages: 120)
            config.host.retainedNodes = 40
            config.faults.crashes[0].atNanoseconds += 400_000_000
            config.faults.restarts[0].atNanoseconds += 400_000_000
            config.faults.restarts[0].log = false
            if seed % 2 == 1 {
                config.workload = Workload(messagesPerParticipant: 60, pattern: .replicated)
                config.filters = ["waves"]
            }
            let failure = SeedSweep.failure(config) { result in
                result.memory.allSatisfy({ ($0?.nodesReclaimed.reduce(0, +) ?? 0) == 0 }) ? ["no host reclaimed a node"] : []
            }
            if let failure { failures.append(failure) }
        }
        SeedSweep.expectNone(failures)
    }

    /// Two hosts fail within 50 ms of each other; one comes back, the other stays down (and
    /// the ring stops at its turn).
    static func overlapping(seed: UInt64, messages: Int) -> SimulationConfig {
        var rng = SplitMix64(seed: seed &* 0x9E37_79B9_7F4A_7C15)
        let n = 4 + Int(rng.next() % 2)
        let restarted = UInt32(rng.next() % UInt64(n))
        let down = (restarted + 1 + UInt32(rng.next() % UInt64(n - 1))) % UInt32(n)
        // The ring stops at the host that stays down: the longer the run, the later the crash.
        let crash = 50_000_000 + rng.next() % (UInt64(messages) * 10_000_000)
        return SimulationConfig(
            seed: seed, participants: n,
            workload: Workload(messagesPerParticipant: messages, acknowledges: false, pattern: .ring),
            network: NetworkModel(link: LinkModel(lossProbability: Double(rng.next() % 9) / 100)),
            faults: FaultSchedule(crashes: [Crash(host: restarted, atNanoseconds: crash),
                                            Crash(host: down, atNanoseconds: crash + rng.next() % 50_000_000)],
                                  restarts: [HostRestart(host: restarted, atNanoseconds: crash + 100_000_000 + rng.next() % 400_000_000,
                                                         mode: rng.next() % 2 == 0 ? .reexecute : .checkpoint)]))
    }

    /// Overlapping failures (Section 5.1): the restarted participant gets back everything that
    /// was stable enough for a surviving image to hold it (`Checker.nStableRecovery`, with one
    /// overlapping failure: every 3-stable message), the running images converge, and every
    /// check passes. The checker is shown to bite: the same results with the restarted host's
    /// image emptied are reported.
    @Test func overlappingFailuresRecoverWhatSurvived() {
        Self.checkOverlapping(seeds: 0..<24, messages: 20)
    }

    static func checkOverlapping(seeds: Range<UInt64>, messages: Int) {
        var failures: [String] = []
        var caught = 0
        for seed in seeds {
            let config = Self.overlapping(seed: seed, messages: messages)
            var result = Simulator(config).run()
            let problems = Checker.check(result).prefix(3).map(\.description)
            if !problems.isEmpty { failures.append("seed \(seed): \(problems.joined(separator: "; ")); reproduce: \(config.reproductionCommand())") }
            let p = Int(config.faults.restarts[0].host)
            result.frontiers[p] = result.frontiers[p].map { Array(repeating: 0, count: $0.count) }
            if !Checker.nStableRecovery(result).isEmpty { caught += 1 }
        }
        #expect(failures.isEmpty, "\(failures.count) failing seeds:\n\(failures.prefix(4).joined(separator: "\n"))")
        #expect(caught == seeds.count, "an emptied restarted image was reported in \(caught) of \(seeds.count) seeds")
    }
}

/// The same at length (release build, `PSYNC_LONG_RUN=1`): 150 messages per participant.
@Suite(.enabled(if: LongRun.enabled, "long runs need the release build: PSYNC_LONG_RUN=1 (Tools/test.sh sets it)"))
struct LongRunRestartTests {
    @Test func longRingsWithRestartsCatchUpAndAgree() {
        RestartPropertyTests.check(seeds: 100..<140, messages: 150)
    }

    @Test func longRingsWithOverlappingFailuresRecoverWhatSurvived() {
        RestartPropertyTests.checkOverlapping(seeds: 100..<130, messages: 150)
    }
}
