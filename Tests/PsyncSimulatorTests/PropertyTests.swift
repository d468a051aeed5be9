import Testing
import Psync
import PsyncSimulator

/// Section 2's guarantees checked over many seeded runs with loss up to 30%, duplication,
/// reordering and a partition that heals (Section 3.2.1), against the reference model of
/// `Checker` (`ReferenceContexts`). A failure prints its seed and the command that reproduces it.
@Suite struct PropertyTests {
    /// A varied but reproducible configuration for each seed.
    static func config(seed: UInt64) -> SimulationConfig {
        var rng = SplitMix64(seed: seed &* 0x2545_F491_4F6C_DD1D)
        let n = 2 + Int(rng.next() % 4)
        let link = LinkModel(
            delay: .uniform(lowNanoseconds: 500_000, highNanoseconds: 500_000 + rng.next() % 4_000_000),
            lossProbability: Double(rng.next() % 31) / 100,
            duplicateProbability: Double(rng.next() % 21) / 100,
            reorderProbability: Double(rng.next() % 31) / 100,
            reorderDelayMaxNanoseconds: 10_000_000)
        let start = rng.next() % 60_000_000
        let side = (0..<UInt32(n)).filter { _ in rng.next() % 2 == 0 }
        let partition = Partition(side: side.isEmpty ? [0] : side, startNanoseconds: start,
                                  healNanoseconds: start + 20_000_000 + rng.next() % 200_000_000)
        return SimulationConfig(
            seed: seed, participants: n,
            workload: Workload(messagesPerParticipant: 2 + Int(rng.next() % 7), meanIntervalNanoseconds: 10_000_000,
                               replyProbability: Double(rng.next() % 51) / 100),
            network: NetworkModel(link: link),
            faults: FaultSchedule(partitions: [partition]))
    }

    @Test(arguments: 0..<5) func propertiesHoldOverManySeeds(batch: Int) {
        var failures: [String] = []
        for seed in UInt64(batch * 100)..<UInt64(batch * 100 + 100) {
            let config = Self.config(seed: seed)
            let result = Simulator(config).run()
            let violations = Checker.check(result)
            if !violations.isEmpty {
                failures.append("seed \(seed): \(violations.prefix(3).map(\.description).joined(separator: "; "))\n  reproduce: \(config.reproductionCommand())")
            }
            if result.dataSent != config.participants * config.workload.messagesPerParticipant {
                failures.append("seed \(seed): sent \(result.dataSent) data messages\n  reproduce: \(config.reproductionCommand())")
            }
        }
        #expect(failures.isEmpty, "\(failures.count) failing seeds:\n\(failures.prefix(5).joined(separator: "\n"))")
    }

    /// The checkers bite: a run whose images are made to differ, or whose reference context is
    /// tampered with, is reported.
    @Test func checkersCatchInjectedViolations() {
        Self.expectCheckersCatchInjectedViolations(Simulator(Self.config(seed: 1)).run())
    }

    /// The checkers take time near-linear in the run: a long run is checked quickly, even in a
    /// debug build, and they still bite there.
    @Test func longRunIsCheckedAndCheckersBite() {
        let config = SimulationConfig(seed: 3, participants: 4,
                                      workload: Workload(messagesPerParticipant: 300, replyProbability: 0.2),
                                      network: NetworkModel(link: LinkModel(lossProbability: 0.05)))
        Self.expectCheckersCatchInjectedViolations(Simulator(config).run())
    }

    static func expectCheckersCatchInjectedViolations(_ result: SimulationResult) {
        #expect(Checker.check(result).isEmpty)

        var diverged = result
        let victim = diverged.images.firstIndex { $0 != nil }!
        let someMessage = diverged.images[victim]!.keys.sorted().last!
        diverged.images[victim]![someMessage] = nil
        #expect(Checker.convergence(diverged).count == diverged.images.count { $0 != nil } - 1)   // victim is the first

        var reordered = result
        let p = reordered.received.firstIndex { $0.count >= 2 }!
        let (first, second) = (reordered.received[p][0], reordered.received[p][1])
        reordered.contexts.include(second, inContextOf: first)   // pretend `first` depended on `second`
        #expect(Checker.receiveOrder(reordered).contains { $0.property == "receive after context" })
        #expect(!Checker.transitiveReduction(reordered).isEmpty)

        var twice = result
        twice.histories[p].append(twice.received[p][0])
        twice.received[p].append(twice.received[p][0])
        #expect(Checker.receiveOrder(twice).contains { $0.property == "receive once" })

        // p's history loses a message: the next one from the same sender comes out of sequence.
        var skipped = result
        let lost = skipped.histories[p].first { m in
            m.senderIndex != p && skipped.histories[p].contains(MessageID(sender: m.senderIndex, sequence: m.sequence + 1))
        }!
        skipped.histories[p].removeAll { $0 == lost }
        #expect(Checker.receiveOrder(skipped).contains { $0.property == "receive after context" && $0.detail.contains("before [\(lost)") })
        var unsent = result
        unsent.histories[p].removeAll { $0 == MessageID(sender: p, sequence: 1) }
        #expect(Checker.receiveOrder(unsent).contains { $0.property == "send in sequence" })
    }
}
