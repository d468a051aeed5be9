import Testing
import Psync
import PsyncAnalysis
import PsyncSimulator
import PsyncTrace

/// Whom convergence is asked of (issue 15: "converged: yes" was printed for a run in which a
/// host never opened the conversation, by the simulator and by `trace check`): every host that
/// did not crash and that no partition cut off when the run fell quiet, an unopened one included.
@Suite struct ConvergenceTests {
    static func run(partition: Partition?) -> (SimulationResult, [TraceEvent]) {
        let sink = MemoryTraceSink()
        var config = SimulationConfig(seed: 1, participants: 3)
        config.workload.messagesPerParticipant = 3
        if let partition { config.faults.partitions = [partition] }
        let result = Simulator(config, trace: sink).run()
        return (result, sink.events)
    }

    static func check(_ events: [TraceEvent]) -> [TraceChecker.Violation] {
        var checker = TraceChecker()
        for e in events { checker.observe(e) }
        _ = checker.finish(complete: true)
        return checker.violations
    }

    /// The run: host 2 is cut off from the start until after the run falls quiet. It
    /// never opens; the others converge, and both checkers say whom they asked.
    @Test func aHostCutOffToTheEndIsNotAskedToConverge() {
        let (result, events) = Self.run(partition: Partition(side: [2], startNanoseconds: 0, healNanoseconds: 3_600_000_000_000))
        #expect(result.images[2] == nil)
        #expect(result.cutOffAtEnd == [2])
        #expect(result.converged)
        #expect(Checker.convergence(result).isEmpty)
        #expect(SimulationSummary(result).text.contains("8, 8, - messages; converged: yes among the hosts a partition did not cut off when the run fell quiet (not h2)"))
        #expect(Self.check(events).isEmpty)

        // Without the partition record, the trace shows a reachable host that never opened.
        let unrecorded = events.filter { if case .partition = $0.kind { false } else { true } }
        let violations = Self.check(unrecorded)
        #expect(violations.contains { $0.property == "images converge" && $0.witness.contains("never opened") }, "\(violations)")
    }

    /// A reachable host without an image is a violation, and `converged` says no.
    @Test func aReachableHostThatNeverOpenedFails() {
        var (result, _) = Self.run(partition: nil)
        #expect(result.converged && Checker.convergence(result).isEmpty)
        result.images[2] = nil
        result.frontiers[2] = nil
        #expect(!result.converged)
        #expect(Checker.convergence(result).map(\.detail) == ["h2 never opened the conversation"])
    }

    /// A partition that heals while the run is active asks every host to converge again.
    @Test func aHealedPartitionAsksEveryHost() {
        let (result, events) = Self.run(partition: Partition(side: [2], startNanoseconds: 0, healNanoseconds: 30_000_000))
        #expect(result.cutOffAtEnd.isEmpty)
        #expect(result.converged && result.images[2] != nil)
        #expect(Self.check(events).isEmpty)
    }
}
