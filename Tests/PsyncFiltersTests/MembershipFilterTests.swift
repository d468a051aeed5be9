import Testing
import Psync
import PsyncFilters
import PsyncSimulator

/// Sections 3.2.4 and 5: delete and join by agreement.
@Suite struct MembershipFilterTests {
    static func membership(_ sim: Simulator, _ i: Int) -> MembershipFilter? {
        sim.stack(of: i)?.filters.last as? MembershipFilter
    }

    /// Crash one participant mid-run: every survivor removes it at the same position of the
    /// total order, and keeps making progress (everything sent is delivered everywhere).
    @Test(arguments: 0..<30) func survivorsRemoveACrashedParticipantAtTheSamePoint(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let n = 3 + Int(rng.next() % 3)
        let victim = UInt32(rng.next() % UInt64(n))
        let config = SimulationConfig(
            seed: seed, participants: n,
            workload: Workload(messagesPerParticipant: 10, meanIntervalNanoseconds: 15_000_000, replyProbability: 0.3),
            network: NetworkModel(link: LinkModel(lossProbability: Double(rng.next() % 16) / 100, reorderProbability: 0.1)),
            faults: FaultSchedule(crashes: [Crash(host: victim, atNanoseconds: 10_000_000 + rng.next() % 30_000_000)]),
            filters: ["waves", "membership"])
        let sim = Simulator(config)
        let result = sim.run()
        let violations = Checker.check(result) + FilterChecker.check(result)
        #expect(violations.isEmpty, "seed \(seed): \(violations.prefix(3)); reproduce: \(config.reproductionCommand())")
        let survivors = (0..<n).filter { $0 != Int(victim) }
        let changes = survivors.map { Self.membership(sim, $0)?.changes ?? [] }
        #expect(changes.allSatisfy { $0 == changes[0] }, "seed \(seed): \(changes)")
        #expect(changes[0].map(\.kind) == [.remove] && changes[0].first?.target == config.participantIDs[Int(victim)],
                "seed \(seed): \(changes[0])")
        // Progress after the removal: survivors' messages sent after the crash were delivered.
        let afterCrash = result.applicationMessages.filter { m in
            (result.sentAt[m] ?? 0) > config.faults.crashes[0].atNanoseconds && m.senderIndex != Int(victim)
        }
        #expect(!afterCrash.isEmpty)
        let top = result.filters.count - 1
        for p in survivors {
            #expect(afterCrash.isSubset(of: result.filterDeliveries[top][p].map(\.message)))
        }
    }

    /// A participant cut off by a partition is removed; after the partition heals, a survivor
    /// proposes its readmission; everyone, the rejoined participant included, records both
    /// changes at the same positions, and the rejoined participant's new messages are delivered
    /// everywhere. The conversation is quiet when the partition starts, so the cut-off
    /// participant sends nothing after its removal's cut (MembershipFilter's precondition); the
    /// survivors notice it is gone when participant 0 speaks again.
    @Test(arguments: 0..<24) func aRemovedParticipantRejoinsByAgreement(seed: UInt64) {
        rejoin(seed: seed) { sim, p3 in sim.perform(participant: 1) { ctx in Self.membership(sim, 1)?.proposeReadmit(p3, ctx) } }
    }

    /// The same join started by Section 5.1's restart notice, as every survivor's host gets the
    /// RS: one proposal (the lowest member's), the same changes everywhere.
    @Test(arguments: 0..<12) func aRestartNoticeStartsTheJoin(seed: UInt64) {
        rejoin(seed: seed) { sim, p3 in
            for i in 0..<3 { sim.perform(participant: i) { ctx in Self.membership(sim, i)?.participantRestarted(p3, ctx) } }
        }
    }

    func rejoin(seed: UInt64, startJoin: @escaping (Simulator, ParticipantID) -> Void) {
        let n = 4
        let config = SimulationConfig(
            seed: seed, participants: n,
            workload: Workload(messagesPerParticipant: 3, meanIntervalNanoseconds: 5_000_000, acknowledges: false),
            network: NetworkModel(link: LinkModel(delay: .constant(nanoseconds: 2_000_000), lossProbability: 0.02)),
            faults: FaultSchedule(partitions: [Partition(side: [3], startNanoseconds: 300_000_000, healNanoseconds: 1_500_000_000)]),
            filters: ["waves", "membership"])
        let sim = Simulator(config, filters: { [WavesFilter(ackDelayNanoseconds: 20_000_000), MembershipFilter()] })
        let p3 = config.participantIDs[3]
        sim.at(900_000_000) { sim in _ = sim.sendAsApplication(participant: 0, [0, UInt8(ascii: "a"), 1]) }
        sim.at(2_500_000_000) { sim in startJoin(sim, p3) }
        var rejoinedMessage = false
        sim.at(4_000_000_000) { sim in rejoinedMessage = sim.sendAsApplication(participant: 3, [0, UInt8(ascii: "a"), 2]) }
        let result = sim.run()
        let violations = Checker.check(result) + FilterChecker.check(result)
        #expect(violations.isEmpty, "seed \(seed): \(violations.prefix(3))")
        let changes = (0..<n).map { Self.membership(sim, $0)?.changes ?? [] }
        #expect(changes.allSatisfy { $0 == changes[0] }, "seed \(seed): \(changes)")
        #expect(changes[0].map(\.kind) == [.remove, .readmit], "seed \(seed): \(changes[0])")
        #expect(rejoinedMessage, "the readmitted participant may send again")
        let fromP3AfterRejoin = result.applicationMessages.filter { $0.senderIndex == 3 && (result.sentAt[$0] ?? 0) >= 4_000_000_000 }
        #expect(fromP3AfterRejoin.count == 1)
        let top = result.filters.count - 1
        for p in 0..<n { #expect(fromP3AfterRejoin.isSubset(of: result.filterDeliveries[top][p].map(\.message)), "p\(p)") }
    }
}

/// The total-order checker and crashed participants: p0 delivers its own a3 and crashes before
/// a3 reaches anyone (Section 3.2.3, case 2a), so the survivors never deliver it. That is no
/// disagreement; a crashed participant that ordered two surviving messages differently is.
@Suite struct CrashedParticipantOrderTests {
    static let config = SimulationConfig(
        seed: 12, participants: 3,
        workload: Workload(messagesPerParticipant: 10, meanIntervalNanoseconds: 15_000_000, replyProbability: 0.3),
        network: NetworkModel(link: LinkModel(lossProbability: 0.14, reorderProbability: 0.1)),
        faults: FaultSchedule(crashes: [Crash(host: 0, atNanoseconds: 27_521_737)]),
        filters: ["waves", "membership"])

    @Test func vanishedMessagesAreExemptButDisorderIsCaught() throws {
        var result = Simulator(Self.config).run()
        let vanished = result.filterDeliveries[0][0].map(\.message).filter { m in
            result.images.allSatisfy { $0?[m] == nil }
        }
        #expect(!vanished.isEmpty, "the scenario has p0 deliver a message that vanished with it")
        #expect(FilterChecker.check(result).isEmpty)
        let surviving = result.filterDeliveries[0][0].indices.filter { !vanished.contains(result.filterDeliveries[0][0][$0].message) }
        let (i, j) = (surviving[0], surviving[1])
        result.filterDeliveries[0][0].swapAt(i, j)
        #expect(FilterChecker.check(result).contains { $0.property == "waves: total order" })
    }
}
