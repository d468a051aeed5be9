import Testing
import Psync
import PsyncSimulator

/// Section 3.3 under loss, over many seeds: with a small buffer limit (sends block, arrivals
/// are discarded), the threshold Θ, and a tiny holding queue, every run still converges,
/// every participant receives every message, filters keep their promises, and the bounds are
/// actually crossed. A failure prints its seed and the command that reproduces it.
@Suite struct MemoryPropertyTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var seed: UInt64
        var participants: Int
        var messages: Int
        var loss: Double
        var bufferLimit: Int?
        var retain: Int?
        var holdingQueueLimit = 1024
        var filters: [String] = []
        var testDescription: String {
            "seed \(seed): \(participants) participants x \(messages), loss \(loss), buffer \(bufferLimit.map(String.init) ?? "-"), Θ \(retain.map(String.init) ?? "-"), holding \(holdingQueueLimit), filters \(filters)"
        }
    }

    static func config(_ c: Case) -> SimulationConfig {
        var host = HostConfig()
        host.bufferLimit = c.bufferLimit
        host.retainedNodes = c.retain
        host.holdingQueueLimit = c.holdingQueueLimit
        return SimulationConfig(
            seed: c.seed, participants: c.participants,
            workload: Workload(messagesPerParticipant: c.messages, meanIntervalNanoseconds: 2_000_000, replyProbability: 0.2),
            network: NetworkModel(link: LinkModel(delay: .uniform(lowNanoseconds: 500_000, highNanoseconds: 3_000_000),
                                                  lossProbability: c.loss, reorderProbability: 0.3,
                                                  reorderDelayMaxNanoseconds: 10_000_000)),
            host: host, filters: c.filters)
    }

    /// What went wrong in one run (empty if nothing), and how often it crossed each bound.
    static func run(_ c: Case) -> (problems: [String], blocked: Int, bufferFull: Int, holdingFull: Int) {
        let config = config(c)
        let result = Simulator(config).run()
        var problems = (Checker.check(result) + FilterChecker.check(result)).prefix(3).map(\.description)
        if !result.converged { problems.append("images differ") }
        if result.dataSent != c.participants * c.messages { problems.append("sent \(result.dataSent) data messages") }
        if c.filters.isEmpty, let image = result.images.first ?? nil {
            // Everyone received everything the others sent: nothing was lost for good.
            for (p, received) in result.received.enumerated() {
                let others = image.keys.count { $0.senderIndex != p }
                if received.count != others { problems.append("p\(p) received \(received.count) of \(others)") }
            }
        }
        if !problems.isEmpty { problems.append("reproduce: \(config.reproductionCommand())") }
        return (problems, result.total(\.sendsBlocked), result.drops[.bufferFull] ?? 0, result.drops[.holdingQueueFull] ?? 0)
    }

    static func check(_ cases: [Case], crossing bounds: Set<DropReason>, blocks: Bool) {
        var failures: [String] = []
        var (blocked, bufferFull, holdingFull) = (0, 0, 0)
        for c in cases {
            let r = run(c)
            if !r.problems.isEmpty { failures.append("\(c.testDescription): \(r.problems.joined(separator: "; "))") }
            blocked += r.blocked
            bufferFull += r.bufferFull
            holdingFull += r.holdingFull
        }
        #expect(failures.isEmpty, "\(failures.count) failing runs:\n\(failures.prefix(4).joined(separator: "\n"))")
        if blocks { #expect(blocked > 0, "no send ever blocked: the buffer limit was never reached") }
        if bounds.contains(.bufferFull) { #expect(bufferFull > 0, "no arrival was ever discarded for a full buffer") }
        if bounds.contains(.holdingQueueFull) { #expect(holdingFull > 0, "the holding queue never overflowed") }
    }

    /// Bursts against a buffer of 12 (a share of 4 per host), with and without Θ and waves.
    @Test func burstsAgainstASmallBufferLoseNothingUnderLoss() {
        let cases = (UInt64(0)..<24).map { seed in
            Case(seed: seed, participants: 3, messages: 60, loss: [0.05, 0.1, 0.2][Int(seed % 3)], bufferLimit: 12,
                 retain: seed % 2 == 0 ? 16 : nil, filters: seed % 3 == 1 ? ["waves"] : [])
        }
        Self.check(cases, crossing: [.bufferFull], blocks: true)
    }

    /// Under Θ, filters keep what they still query: waves release their committed prefix, so
    /// images stay small; a filter that says nothing (commutative queries `precedes` on pending
    /// operations) keeps every node, and its replicas still agree.
    @Test func thresholdReclaimsOnlyWhatTheFiltersReleased() {
        func run(_ filters: [String]) -> SimulationResult {
            var host = HostConfig()
            host.retainedNodes = 20
            return Simulator(SimulationConfig(
                seed: 3, participants: 3, workload: Workload(messagesPerParticipant: 150, replyProbability: 0.2, betaFraction: 0.3),
                network: NetworkModel(link: LinkModel(lossProbability: 0.05)), host: host, filters: filters)).run()
        }
        let waves = run(["waves"]), commutative = run(["commutative"])
        for r in [waves, commutative] {
            #expect((Checker.check(r) + FilterChecker.check(r)).isEmpty, "\(r.config.reproductionCommand())")
        }
        let wavesLive = waves.memory.compactMap { $0?.liveNodes }, total = waves.imageSizes
        #expect(wavesLive.allSatisfy { $0 < 150 }, "waves: \(wavesLive) live nodes of \(total)")
        #expect(commutative.memory.compactMap { $0?.liveNodes } == commutative.imageSizes)
    }

    /// A holding queue of 3 messages under loss and heavy reordering: discarded out-of-order
    /// messages are recovered like lost ones.
    @Test func aTinyHoldingQueueLosesNothing() {
        let cases = (UInt64(0)..<8).map { seed in
            Case(seed: seed, participants: 4, messages: 40, loss: 0.15, bufferLimit: nil, retain: nil, holdingQueueLimit: 3)
        }
        Self.check(cases, crossing: [.holdingQueueFull], blocks: false)
    }
}

/// The same at the scale of the long runs (release build, `PSYNC_LONG_RUN=1`): 300 messages per
/// participant, up to 8 participants, loss up to 20%, every bound crossed.
@Suite(.enabled(if: LongRun.enabled, "long runs need the release build: PSYNC_LONG_RUN=1 (Tools/test.sh sets it)"))
struct LongRunMemoryTests {
    @Test func longConversationsInBoundedMemoryLoseNothing() {
        let cases = (UInt64(200)..<216).map { seed in
            var rng = SplitMix64(seed: seed)
            let filters = [[], ["waves"], ["causal"], ["quorum"]][Int(rng.next() % 4)]
            return MemoryPropertyTests.Case(
                seed: seed, participants: 3 + Int(rng.next() % 6), messages: 300, loss: Double(rng.next() % 21) / 100,
                bufferLimit: [24, 64, 256][Int(rng.next() % 3)], retain: [nil, 30, 200][Int(rng.next() % 3)],
                holdingQueueLimit: [1024, 8][Int(rng.next() % 2)], filters: filters)
        }
        MemoryPropertyTests.check(cases, crossing: [.bufferFull, .holdingQueueFull], blocks: true)
    }
}
