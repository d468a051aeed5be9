import Testing
import Foundation
import PsyncTrace
import Psync
import PsyncFilters
import PsyncSimulator

/// Every filter keeps its promises over many seeds with loss, duplication, reordering and a
/// partition that heals (the configurations of the Psync property test, with a filter stack).
@Suite struct FilterPropertyTests {
    static func config(seed: UInt64, filters: [String]) -> SimulationConfig {
        var rng = SplitMix64(seed: seed &* 0x9E37_79B9_7F4A_7C15 &+ 17)
        let n = 2 + Int(rng.next() % 4)
        let link = LinkModel(
            delay: .uniform(lowNanoseconds: 500_000, highNanoseconds: 500_000 + rng.next() % 4_000_000),
            lossProbability: Double(rng.next() % 26) / 100,
            duplicateProbability: Double(rng.next() % 11) / 100,
            reorderProbability: Double(rng.next() % 21) / 100)
        let start = rng.next() % 50_000_000
        let side = (0..<UInt32(n)).filter { _ in rng.next() % 2 == 0 }
        return SimulationConfig(
            seed: seed, participants: n,
            workload: Workload(messagesPerParticipant: 2 + Int(rng.next() % 6), meanIntervalNanoseconds: 10_000_000,
                               replyProbability: Double(rng.next() % 41) / 100),
            network: NetworkModel(link: link),
            faults: FaultSchedule(partitions: [Partition(side: side.isEmpty ? [0] : side, startNanoseconds: start,
                                                         healNanoseconds: start + 20_000_000 + rng.next() % 150_000_000)]),
            filters: filters)
    }

    static func failures(_ filters: [String], seeds: Range<UInt64>) -> [String] {
        seeds.compactMap { seed in
            let config = Self.config(seed: seed, filters: filters)
            let result = Simulator(config).run()
            let violations = Checker.check(result) + FilterChecker.check(result)
            guard !violations.isEmpty else { return nil }
            return "seed \(seed): \(violations.prefix(3).map(\.description).joined(separator: "; "))\n  reproduce: \(config.reproductionCommand())"
        }
    }

    @Test(arguments: [["causal"], ["waves"], ["depth-first"], ["quorum"], ["quorum:2"], ["causal", "waves"], ["waves", "membership"], ["depth-first", "membership"], ["stable-causal"], ["waves", "quorum"], ["commutative"], ["handshake"], ["circuit"], ["circuit:1"]])
    func filtersKeepTheirPromises(filters: [String]) {
        let failures = Self.failures(filters, seeds: 0..<150)
        #expect(failures.isEmpty, "\(failures.count) failing seeds:\n\(failures.prefix(5).joined(separator: "\n"))")
    }

    /// The filter checkers take time near-linear in the run: a long run is checked quickly,
    /// even in a debug build, and they still bite there: deliveries swapped out of causal or
    /// total order, or moved before a quorum has the message, are reported.
    @Test func longRunIsCheckedAndFilterCheckersBite() {
        let config = SimulationConfig(seed: 3, participants: 4,
                                      workload: Workload(messagesPerParticipant: 300, replyProbability: 0.2),
                                      network: NetworkModel(link: LinkModel(lossProbability: 0.05)), filters: ["waves", "quorum"])
        let result = Simulator(config).run()
        #expect((Checker.check(result) + FilterChecker.check(result)).isEmpty)
        let (waves, quorum) = (0, 1)

        var causal = result
        let ds = result.filterDeliveries[quorum][0]
        let i = ds.indices.dropLast().first { result.contexts.contains(ds[$0].message, in: ds[$0 + 1].message) }!
        causal.filterDeliveries[quorum][0].swapAt(i, i + 1)
        #expect(FilterChecker.check(causal).contains { $0.property == "quorum: causal" })

        var total = result
        total.filterDeliveries[waves][1].swapAt(0, 1)
        #expect(FilterChecker.check(total).contains { $0.property == "waves: total order" })

        var early = result
        let first = result.filterDeliveries[quorum][2][0]
        // Delivered as soon as p2's view had it: before anyone else could have followed it.
        early.filterDeliveries[quorum][2][0].historyLength = result.histories[2].firstIndex(of: first.message)! + 1
        #expect(FilterChecker.check(early).contains { $0.property == "quorum: quorum 3" && $0.detail.hasPrefix("p2 ") })
    }
}

/// The checkers bite: a waves filter that commits a wave as soon as it has a member, without
/// waiting for one to be stable, claims a total order it does not keep.
@Suite struct BrokenFilterTests {
    final class EagerWaves: OrderingFilter {
        let name = "eager-waves"
        let guarantees: Set<FilterGuarantee> = [.causal, .totalOrder]
        var committed: [UInt32] = []

        func start(_ context: FilterContext) { committed = Array(repeating: 0, count: context.participants.count) }

        func update(_ context: FilterContext) {
            while true {
                let wave = committed.indices.map { MessageID(sender: $0, sequence: committed[$0] + 1) }.filter { m in
                    context.contains(m) && context.prev(m).allSatisfy { $0.sequence <= committed[$0.senderIndex] }
                }
                guard !wave.isEmpty else { return }  // the bug: no stability check before committing
                for m in wave {
                    committed[m.senderIndex] = m.sequence
                    if let message = context.message(m) { context.deliver(message, from: self) }
                }
            }
        }
    }

    @Test func checkersCatchAWavesFilterThatCommitsEarly() {
        var caught = 0
        for seed in UInt64(0)..<40 {
            let config = FilterPropertyTests.config(seed: seed, filters: ["eager-waves"])
            let result = Simulator(config, filters: { [EagerWaves()] }).run()
            if FilterChecker.check(result).contains(where: { $0.property.contains("total order") }) { caught += 1 }
        }
        #expect(caught >= 20, "the total-order checker flagged \(caught) of 40 runs")
    }
}

/// The model checker finds the eager waves filter's bug with no seed: breadth first, the
/// first violation is reached by a shortest path, a handful of steps (two participants open,
/// each sends, each commits its own message as a wave of one). The counterexample replays: as
/// steps, as a trace the reader takes whole, as a scenario test's text.
@Suite struct BrokenFilterExplorationTests {
    static let scope = ExplorationScope(participants: 3, messagesPerParticipant: 1, acknowledges: false)

    @Test func explorationCatchesTheEagerWavesFilterInAFewSteps() throws {
        let report = ExploredRun.explorer(Self.scope, filters: { [BrokenFilterTests.EagerWaves()] }).run()
        let (actions, violations) = try #require(report.counterexample, "\(report)")
        #expect(violations.contains { $0.property == "eager-waves: total order" }, "\(violations)")
        // Fewer cannot do: two participants must open (the SC reaches each) before each sends.
        #expect(actions.count == 4, "\(report)")
        // Without reduction the path is the shortest there is: no longer.
        let shortest = ExploredRun.explorer(Self.scope, limits: ExplorationLimits(reduction: false),
                                            filters: { [BrokenFilterTests.EagerWaves()] }).run()
        #expect(shortest.counterexample?.actions.count == actions.count)

        let found = Counterexample(scope: Self.scope, steps: actions.map(\.description), violations: violations)
        let run = ExploredRun(Self.scope, filters: { [BrokenFilterTests.EagerWaves()] })
        for step in found.steps { #expect(run.perform(step), "\(step)") }
        #expect(run.violations().map(\.description) == violations.map(\.description))

        let path = FileManager.default.temporaryDirectory.appendingPathComponent("explored-\(UUID()).lz4").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let writer = try LZ4TraceWriter(path: path)
        found.record(to: writer, filters: { [BrokenFilterTests.EagerWaves()] })
        try writer.close()
        let (header, events) = try TraceReader.readAll(path: path)
        #expect(header.filters == ["eager-waves"])
        #expect(events.count { if case .send = $0.kind { true } else { false } } >= 3)
        let test = found.scenarioTest(command: "psync explore")
        #expect(test.contains("@Test func exploredCounterexample()") && test.contains("\"\(found.steps[0])\","))
    }
}
