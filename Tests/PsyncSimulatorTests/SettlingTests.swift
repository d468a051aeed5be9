import Testing
import Psync
import PsyncSimulator

/// The workload's last-ACK work-around resends only what a loss leaves unsettled.
@Suite struct SettlingTests {
    static let lossFree = SimulationConfig(seed: 1, participants: 4, workload: Workload(messagesPerParticipant: 20))

    /// Acknowledgements are never answered; without loss nothing is resent.
    @Test func aLossFreeRunResendsNothing() {
        let result = Simulator(Self.lossFree).run()
        #expect(result.total(\.resends) == 0)
        #expect(result.acksSent > 0)
        #expect(Checker.check(result).isEmpty)
    }

    /// A last acknowledgement lost on its way to one host, which nothing follows. Under the
    /// paper's recovery rule that host finds the data it answers unstable and resends what
    /// follows it; the others answer with the lost acknowledgement. Under gap recovery, tail
    /// recovery brings it first and the workload resends nothing.
    @Test(arguments: RecoveryPolicy.allCases) func aLostLastAcknowledgementIsRecovered(policy: RecoveryPolicy) {
        let image = Simulator(Self.lossFree).run().images[0]!
        let followed = Set(image.values.joined())
        let lastAck = image.keys.filter { !followed.contains($0) }.min()!
        let from = UInt32(lastAck.senderIndex)
        var config = Self.lossFree
        config.host = HostConfig(recovery: policy)
        config.faults.drops = [DropRule(message: lastAck, from: from, to: [(from + 1) % 4])]
        let result = Simulator(config).run()
        #expect(result.network.droppedByRule > 0)
        #expect(policy == .paper ? result.total(\.resends) > 0 : result.total(\.resends) == 0)
        #expect(Checker.check(result).isEmpty)
    }
}
