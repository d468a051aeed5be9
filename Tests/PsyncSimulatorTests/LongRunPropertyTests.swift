import Foundation
import Testing
import Psync
import PsyncSimulator

/// Section 2's and the filters' guarantees over long conversations under harsh faults: 3 to 16
/// participants, 300 data messages each (a history far beyond `retransmitBatchLimit` and every
/// other bound), loss up to 30%, duplication and heavy reordering, without a filter and under
/// `waves` and `quorum` (up to 8 participants: Figure 8's acknowledgement rule answers every
/// message, the workload's acknowledgements included, with an ACK from every other participant,
/// so 16 participants with 300 messages each make millions of control messages whatever the
/// recovery). Every image converges, every filter keeps its promises, nothing is
/// discarded at loss up to 20%, and recovery stays proportional to loss (no storm).
///
/// These runs take minutes in a debug build, so they run in the release build that
/// `Tools/test.sh` makes after the debug suite (`PSYNC_LONG_RUN=1 swift test -c release`); in a
/// plain debug `swift test` they are reported as skipped. A failure prints its seed and the
/// command that reproduces it.
@Suite(.enabled(if: LongRun.enabled, "long runs need the release build: PSYNC_LONG_RUN=1 (Tools/test.sh sets it)"))
struct LongRunPropertyTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var seed: UInt64
        var participants: Int
        var loss: Double
        var filters: [String]
        var testDescription: String { "seed \(seed): \(participants) participants, loss \(loss), filters \(filters)" }
    }

    /// Participant counts, loss rates and filters spread over the runs; duplication and
    /// reordering drawn from the seed.
    static let cases: [Case] = [
        Case(seed: 1, participants: 3, loss: 0.3, filters: []),
        Case(seed: 2, participants: 5, loss: 0.2, filters: []),
        Case(seed: 3, participants: 8, loss: 0.1, filters: []),
        Case(seed: 4, participants: 16, loss: 0.3, filters: []),
        Case(seed: 5, participants: 12, loss: 0.05, filters: []),
        Case(seed: 6, participants: 3, loss: 0.2, filters: ["waves"]),
        Case(seed: 7, participants: 5, loss: 0.3, filters: ["waves"]),
        Case(seed: 8, participants: 8, loss: 0.1, filters: ["waves"]),
        Case(seed: 9, participants: 4, loss: 0.3, filters: ["quorum"]),
        Case(seed: 10, participants: 6, loss: 0.2, filters: ["quorum"]),
        Case(seed: 11, participants: 8, loss: 0.05, filters: ["waves", "quorum"]),
        Case(seed: 12, participants: 8, loss: 0.1, filters: ["quorum"]),
        Case(seed: 13, participants: 16, loss: 0.2, filters: []),
        Case(seed: 14, participants: 10, loss: 0.0, filters: []),
    ] + sweep

    /// Forty more cases drawn from the same space.
    static let sweep: [Case] = (100..<140).map { seed in
        var rng = SplitMix64(seed: UInt64(seed))
        let filters = [[], [], ["waves"], ["quorum"], ["causal"], ["waves", "quorum"]][Int(rng.next() % 6)]
        let participants = 3 + Int(rng.next() % (filters.isEmpty ? 14 : 6))
        return Case(seed: UInt64(seed), participants: participants, loss: Double(rng.next() % 31) / 100, filters: filters)
    }

    static func config(_ c: Case) -> SimulationConfig {
        var rng = SplitMix64(seed: c.seed &* 0xD1B5_4A32_D192_ED03)
        let link = LinkModel(
            delay: .uniform(lowNanoseconds: 500_000, highNanoseconds: 3_000_000),
            lossProbability: c.loss,
            duplicateProbability: Double(rng.next() % 11) / 100,
            reorderProbability: 0.3 + Double(rng.next() % 21) / 100,
            reorderDelayMaxNanoseconds: 20_000_000)
        return SimulationConfig(
            seed: c.seed, participants: c.participants,
            workload: Workload(messagesPerParticipant: 300, meanIntervalNanoseconds: 10_000_000,
                               replyProbability: Double(rng.next() % 31) / 100),
            network: NetworkModel(link: link), filters: c.filters)
    }

    @Test(arguments: cases) func longConversationsRecoverEverything(_ c: Case) {
        let config = Self.config(c)
        let result = Simulator(config).run()
        let reproduce = "reproduce: \(config.reproductionCommand())"
        let violations = Checker.check(result) + FilterChecker.check(result)
        #expect(violations.isEmpty, "\(violations.prefix(3).map(\.description)); \(reproduce)")
        #expect(result.converged, "\(reproduce)")
        #expect(result.dataSent == c.participants * 300, "\(reproduce)")
        let cost = RecoveryCost(result)
        if c.loss <= 0.2 { #expect(cost.discards == 0, "\(cost.discards) discards; \(reproduce)") }
        // No storm: recovery traffic stays within a few packets per lost packet.
        #expect(cost.extraPackets <= 4 * max(cost.packetsLost, 1) + cost.minimumPackets / 2,
                "\(cost.extraPackets) extra packets for \(cost.packetsLost) lost; \(reproduce)")
    }
}

/// Whether the long runs are enabled (`PSYNC_LONG_RUN=1`).
enum LongRun {
    static let enabled = ProcessInfo.processInfo.environment["PSYNC_LONG_RUN"] == "1"
}
