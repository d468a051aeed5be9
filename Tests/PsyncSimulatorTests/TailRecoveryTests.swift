import Testing
import Psync
import PsyncSimulator

/// The last-ACK problem (Section 3.2.2) without the application's help: with the workload's
/// resends off (`--settle-attempts 0`), tail recovery alone makes every image converge, where
/// the paper's rule leaves runs with a final message missing.
@Suite struct TailRecoveryTests {
    static func config(seed: UInt64, policy: RecoveryPolicy) -> SimulationConfig {
        SimulationConfig(
            seed: seed, participants: 4,
            workload: Workload(messagesPerParticipant: 20, settleAttempts: 0),
            network: NetworkModel(link: LinkModel(lossProbability: 0.1)),
            host: HostConfig(recovery: policy))
    }

    @Test func convergesWithoutSettleResends() {
        var failures: [String] = []
        for seed in UInt64(1)...60 {
            let config = Self.config(seed: seed, policy: .gaps)
            let result = Simulator(config).run()
            let violations = Checker.check(result)
            if !violations.isEmpty || result.total(\.resends) != 0 {
                failures.append("seed \(seed): \(violations.prefix(2)); resends \(result.total(\.resends)); reproduce: \(config.reproductionCommand())")
            }
        }
        #expect(failures.isEmpty, "\(failures.count) failing seeds:\n\(failures.prefix(5).joined(separator: "\n"))")
    }

    /// The same runs under the paper's rule: some end with a message missing somewhere (the
    /// comparison shows what tail recovery adds; if none did, this test would say so).
    @Test func paperRuleLosesTails() {
        let diverged = (UInt64(1)...60).filter { !Simulator(Self.config(seed: $0, policy: .paper)).run().converged }
        #expect(!diverged.isEmpty)
    }
}
