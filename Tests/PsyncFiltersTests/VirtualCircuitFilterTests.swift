import Psync
import PsyncFilters
import PsyncSimulator
import Testing

/// Section 4.1's protocols over a conversation (`VirtualCircuitFilter`): the window is never
/// exceeded, under loss and over many messages (histories far beyond the window), and small
/// scopes of stop-and-wait, sliding window and RPC are explored exhaustively.
@Suite struct VirtualCircuitFilterTests {
    static func circuits(_ simulator: Simulator, _ n: Int) -> [VirtualCircuitFilter] {
        (0..<n).compactMap { simulator.stack(of: $0)?.filters.first as? VirtualCircuitFilter }
    }

    /// 3 participants x 60 messages each at 10% loss, windows 1, 3 and 8: every message is
    /// delivered everywhere (the checkers), and no participant ever had more unstable messages
    /// than its window, which the workload fills (its sends come faster than acknowledgements).
    @Test(arguments: [1, 3, 8]) func theWindowIsNeverExceededAndEverythingArrives(window: Int) {
        for seed in UInt64(1)...3 {
            let config = SimulationConfig(seed: seed, participants: 3,
                                          workload: Workload(messagesPerParticipant: 60, meanIntervalNanoseconds: 200_000, acknowledges: false),
                                          network: NetworkModel(link: LinkModel(lossProbability: 0.1)),
                                          filters: ["circuit:\(window)"])
            let simulator = Simulator(config)
            let result = simulator.run()
            let violations = Checker.check(result) + FilterChecker.check(result)
            #expect(violations.isEmpty, "seed \(seed), window \(window): \(violations.prefix(3)); reproduce: \(config.reproductionCommand(tool: "psync"))")
            #expect(result.applicationMessages.count == 3 * 60, "held sends all went: \(result.applicationMessages.count)")
            let circuits = Self.circuits(simulator, 3)
            #expect(circuits.count == 3)
            #expect(circuits.allSatisfy { $0.mostUnstable <= window }, "seed \(seed): \(circuits.map(\.mostUnstable))")
            #expect(circuits.contains { $0.mostUnstable == window }, "seed \(seed): the window was never full: \(circuits.map(\.mostUnstable))")
        }
    }

    /// Every ordering of stop-and-wait and of a window of 2 between two participants with a
    /// loss, and of RPC (two participants passing a token: request, reply in its context, the
    /// next request in the reply's context) over stop-and-wait: no violation, and at every end
    /// the window held.
    @Test(arguments: [("circuit:1", nil), ("circuit:2", nil), ("circuit:1", Workload.Pattern.ring)] as [(String, Workload.Pattern?)])
    func smallScopesAreExploredWithoutViolation(filter: String, pattern: Workload.Pattern?) {
        let scope = ExplorationScope(participants: 2, messagesPerParticipant: 2, filters: [filter], pattern: pattern,
                                     acknowledges: false, losses: 1)
        let window = Int(filter.split(separator: ":")[1])!
        var overflows = 0
        let explorer = ExploredRun.explorer(scope)
        explorer.onQuiescent = { run in
            if Self.circuits(run.simulator, 2).contains(where: { $0.mostUnstable > window }) { overflows += 1 }
        }
        let report = explorer.run()
        #expect(report.exhaustive && report.counterexample == nil && report.quiescentStates > 0, "\(scope.description)\n\(report)")
        #expect(overflows == 0)
    }
}
