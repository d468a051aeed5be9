import Testing
@testable import Psync
import PsyncSimulator

/// Section 5: a participant whose host lost its memory comes back with `restart`, from a
/// checkpoint (5.1) or by re-execution (5.2), packet by packet over `ManualNetwork`.
///
/// The conversation is a ring: each participant sends when its predecessor's message reaches it
/// (a deterministic application whose input order the graph fixes: a chain), so a re-executing
/// participant sends exactly what it sent the first time, in the same context.
@Suite struct RestartTests {
    final class Ring {
        let net: ManualNetwork
        let pids: [ParticipantID]
        let cid = ConversationID(11)
        /// What each participant's application received and sent, in order, and the number of
        /// the message it owes its successor (its state).
        var log: [[String]]
        var due: [Int?]
        var suppressed = 0

        init(hosts n: Int, config: HostConfig, storage: [any StableStorage] = []) throws {
            net = ManualNetwork(hostCount: n, config: config)
            for (i, s) in storage.enumerated() { net.reboot(i, storage: s) }
            pids = (0..<n).map { ParticipantID(host: HostID(UInt32($0))) }
            log = Array(repeating: [], count: n)
            due = Array(repeating: nil, count: n)
            try net[0].activeOpen(pids, as: pids[0], conversation: cid)
            for i in 1..<n { _ = net[i].passiveOpen(pids[i], now: net.now) }
            net.collectAll()
        }

        /// Participant i's application: take what Psync hands over; answer the predecessor's
        /// message with its own, numbered after it, while that number is under `rounds` laps.
        func step(_ i: Int, rounds: Int) throws {
            let n = pids.count
            while true {
                if let k = due[i], k < rounds * n {
                    let reply = "\(Character(UnicodeScalar(97 + i)!))\(k)"
                    _ = try net[i].send(Array(reply.utf8), in: cid, as: pids[i], now: net.now)
                    log[i].append("sent \(reply)")
                    due[i] = nil
                }
                guard let (m, payload) = try net[i].receive(cid, as: pids[i]) else { break }
                let text = String(decoding: payload, as: UTF8.self)
                log[i].append("got \(text)")
                if m.senderIndex == (i + n - 1) % n { due[i] = Int(text.dropFirst())! + 1 }
            }
            net.collect(i)
        }

        /// Runs the ring until nothing moves (crashed hosts excluded).
        func run(rounds: Int, skipping down: Set<Int> = []) throws {
            for _ in 0..<200 {
                net.deliverAll()
                for i in pids.indices where !down.contains(i) { try step(i, rounds: rounds) }
                net.advance(by: 50_000_000)
                if net.inFlight.isEmpty && pids.indices.allSatisfy({ i in down.contains(i) || (try? !net[i].outstanding(cid, as: pids[i])) ?? true }) {
                    net.advance(by: 500_000_000)
                    if net.inFlight.isEmpty { return }
                }
            }
        }

        /// Host i fails and comes back with its memory lost (and its `log`, if it has one); its
        /// participant restarts with `leaves` (none: re-execution) and application state
        /// `state`.
        func crashAndRestart(_ i: Int, leaves: [MessageID] = [], state: ([String], Int?) = ([], nil),
                             participants: [ParticipantID], log storage: (any StableStorage)? = nil,
                             logged: [AddNode] = []) throws {
            net.crash(i)
            net.reboot(i, storage: storage)
            (log[i], due[i]) = state
            try net[i].restart(cid, as: pids[i], participants: participants, leaves: leaves, logged: logged, now: net.now)
            net.collect(i)
        }

        func start() throws {
            _ = try net[0].send(Array("a0".utf8), in: cid, as: pids[0], now: net.now)
            log[0].append("sent a0")
            net.collect(0)
        }
    }

    static var keepHistory: HostConfig {
        var config = HostConfig()
        config.reclaimsPayloads = false   // without a log, the others must keep what p2 will ask for
        return config
    }

    /// A checkpoint (the participant's state, `participants`, its view's leaves), a crash two
    /// rounds later, a reboot and `restart` with the checkpoint's leaves: the image is rebuilt
    /// from the others, the view is the checkpoint's, the sends made after the checkpoint are
    /// suppressed when the application makes them again, and the ring goes on to the end with
    /// every image, view and application state equal to an uninterrupted run's.
    @Test(arguments: [RecoveryPolicy.gaps, .paper])
    func restartFromACheckpoint(_ recovery: RecoveryPolicy) throws {
        var config = Self.keepHistory
        config.recovery = recovery
        let rounds = 10
        let reference = try Ring(hosts: 3, config: config)
        try reference.start()
        try reference.run(rounds: rounds)

        let ring = try Ring(hosts: 3, config: config)
        try ring.start()
        try ring.run(rounds: 4)                               // the first four rounds
        let checkpoint = (state: ring.log[2], due: ring.due[2], participants: try ring.net[2].participants(ring.cid),
                          leaves: try ring.net[2].leaves(ring.cid, as: ring.pids[2]))
        try ring.run(rounds: 7)                               // three more, then host 2 fails
        try ring.crashAndRestart(2, leaves: checkpoint.leaves, state: (checkpoint.state, checkpoint.due),
                                 participants: checkpoint.participants)
        try ring.run(rounds: rounds)

        #expect(ring.log == reference.log)
        let frontiers = (0..<3).map { ring.net[$0].frontier(ring.cid) }
        #expect(frontiers.allSatisfy { $0 == reference.net[0].frontier(reference.cid) }, "\(frontiers)")
        #expect(try ring.net[2].viewFrontier(ring.cid, as: ring.pids[2]) == reference.net[2].viewFrontier(reference.cid, as: reference.pids[2]))
        let suppressed = ring.net.log.filter { h, e in
            if h == HostID(2), case .event(.resendSuppressed) = e { return true }
            return false
        }
        #expect(suppressed.count == 3, "c's sends in rounds 5-7 were made again and suppressed")
        // Every other participant was told once.
        for i in 0..<2 {
            let told = ring.net.log.filter { h, e in h == HostID(UInt32(i)) && e == .restarted(ring.cid, ring.pids[i], restarted: ring.pids[2]) }
            #expect(told.count == 1, "h\(i) told \(told.count) times")
        }
    }

    /// Re-execution (Section 5.2): `restart` with no leaves; the participant receives from the
    /// root again, re-sends everything it had sent (all suppressed, same ids), and catches up.
    @Test func restartByReexecution() throws {
        let rounds = 8
        let reference = try Ring(hosts: 3, config: Self.keepHistory)
        try reference.start()
        try reference.run(rounds: rounds)

        let ring = try Ring(hosts: 3, config: Self.keepHistory)
        try ring.start()
        try ring.run(rounds: 5)
        try ring.crashAndRestart(2, participants: try ring.net[2].participants(ring.cid))
        try ring.run(rounds: rounds)

        #expect(ring.log == reference.log)
        #expect(ring.net[2].frontier(ring.cid) == reference.net[2].frontier(reference.cid))
        let suppressed = ring.net.log.filter { h, e in
            if h == HostID(2), case .event(.resendSuppressed) = e { return true }
            return false
        }
        #expect(suppressed.count == 5)
    }

    /// With buffers freed once every host holds them (the default), a restarted host asks for
    /// messages no host keeps in memory: the others serve them from their logs (Section 5's
    /// non-volatile storage, read back), and the re-executed ring ends as an uninterrupted one.
    /// (`RestartPropertyTests` does the same with nodes reclaimed by Θ.) With storage that only
    /// writes, what was freed is gone: the participant cannot catch up.
    @Test(arguments: [RecoveryPolicy.gaps, .paper])
    func freedMessagesAreServedFromTheOthersLogs(_ recovery: RecoveryPolicy) throws {
        final class ReadableLog: StableStorage {
            var kept: [MessageID: AddNode] = [:]
            func store(_ message: AddNode) { kept[message.message] = message }
            func stored(_ message: MessageID, in conversation: ConversationID) -> AddNode? { kept[message] }
        }
        final class WriteOnlyLog: StableStorage {
            func store(_ message: AddNode) {}
        }
        var config = HostConfig()
        config.recovery = recovery
        let rounds = 8
        let reference = try Ring(hosts: 3, config: config)
        try reference.start()
        try reference.run(rounds: rounds)
        for readable in [true, false] {
            let logs: [any StableStorage] = (0..<3).map { _ in readable ? ReadableLog() as any StableStorage : WriteOnlyLog() }
            let ring = try Ring(hosts: 3, config: config, storage: logs)
            try ring.start()
            try ring.run(rounds: 5)
            let first = MessageID(sender: 0, sequence: 1)
            #expect(throws: PsyncError.payloadReclaimed(first), "a0's buffer is freed at host 0 before the crash") {
                try ring.net[0].payload(first, in: ring.cid, as: ring.pids[0])
            }
            try ring.crashAndRestart(2, participants: try ring.net[2].participants(ring.cid), log: logs[2])
            try ring.run(rounds: rounds)
            if readable {
                #expect(ring.log == reference.log)
                #expect(ring.net[2].frontier(ring.cid) == reference.net[2].frontier(reference.cid))
            } else {
                #expect(ring.log[2].count < reference.log[2].count, "without logs that read back, c got \(ring.log[2].count) entries")
            }
        }
    }

    /// A non-deterministic participant is caught: re-sending something else in place of a
    /// message already in the graph is an error, not a silent fork.
    @Test func aDivergingReexecutionIsAnError() throws {
        let ring = try Ring(hosts: 3, config: Self.keepHistory)
        try ring.start()
        try ring.run(rounds: 3)
        try ring.crashAndRestart(2, participants: try ring.net[2].participants(ring.cid))
        for _ in 0..<20 {
            ring.net.deliverAll()
            ring.net.advance(by: 50_000_000)
        }
        let host = ring.net[2], cid = ring.cid, c = ring.pids[2]
        while try host.receive(cid, as: c) != nil {}
        #expect(throws: PsyncError.reexecutionDiverged(MessageID(sender: 2, sequence: 1))) {
            try host.send(Array("something else".utf8), in: cid, as: c, now: .zero)
        }
    }

    /// The host's non-volatile log (here, what its `StableStorage` kept) comes back first: the
    /// network supplies only the rest.
    @Test func theLogSuppliesWhatItKept() throws {
        final class Log: StableStorage {
            var kept: [AddNode] = []
            func store(_ message: AddNode) { kept.append(message) }
        }
        let log = Log()
        let ring = try Ring(hosts: 3, config: Self.keepHistory)
        ring.net.reboot(2, storage: log)                  // host 2 logs from the start
        _ = ring.net[2].passiveOpen(ring.pids[2], now: ring.net.now)
        ring.net.collect(2)
        try ring.start()
        try ring.run(rounds: 6)
        #expect(log.kept.count > 6)
        let participants = try ring.net[2].participants(ring.cid)
        let before = (0..<2).map { ring.net[$0].counters.retransmittedMessages }
        try ring.crashAndRestart(2, participants: participants, log: log, logged: log.kept)
        #expect(ring.net.log.contains { h, e in
            if h == HostID(2), case .event(.restart(_, _, _, let logged)) = e { return logged == log.kept.count }
            return false
        })
        for _ in 0..<20 {
            ring.net.deliverAll()
            ring.net.advance(by: 50_000_000)
        }
        #expect(ring.net[2].frontier(ring.cid) == ring.net[0].frontier(ring.cid))
        let resent = (0..<2).map { ring.net[$0].counters.retransmittedMessages - before[$0] }.reduce(0, +)
        #expect(resent < ring.net[0].frontier(ring.cid)!.reduce(0, +) - UInt32(log.kept.count) + 4, "\(resent) retransmitted")
    }

    /// An RS for an unknown conversation, or naming a participant on another host, is a traced
    /// drop.
    @Test func badRestartsAreDropped() throws {
        let ring = try Ring(hosts: 3, config: Self.keepHistory)
        try ring.start()
        try ring.run(rounds: 1)
        _ = ring.net[0].handle(.packet(.restart(Restart(conversation: ConversationID(99), participant: ring.pids[1], leaves: [])),
                                       from: HostID(1)), now: ring.net.now)
        _ = ring.net[0].handle(.packet(.restart(Restart(conversation: ring.cid, participant: ring.pids[2], leaves: [])),
                                       from: HostID(1)), now: ring.net.now)
        #expect(ring.net[0].counters.drops[.unknownConversation] == 1)
        #expect(ring.net[0].counters.drops[.nonParticipant] == 1)
    }

    /// Section 5.1's bound: when n-1 participants' failures overlap (here the restarting `a` and
    /// `b`), what is guaranteed to come back is the graph up to the lowest n-stable messages
    /// (n = 3 of 4): at least n images held them, so one survives. Messages only the failed
    /// hosts held (`a2`, 2-stable, and `b2`) are not recovered, and the restarted participant
    /// then sends its next message under `a2`'s id again: it is a new message.
    @Test func overlappingFailuresRecoverUpToTheLowestNStableMessages() throws {
        let net = ManualNetwork(hostCount: 4, config: Self.keepHistory)
        let pids = (0..<4).map { ParticipantID(host: HostID(UInt32($0))) }
        let cid = ConversationID(12)
        try net[0].activeOpen(pids, as: pids[0], conversation: cid)
        for i in 1..<4 { _ = net[i].passiveOpen(pids[i], now: net.now) }
        func settle() throws {
            net.collectAll()
            net.deliverAll()
            for i in 0..<4 { while try net[i].receive(cid, as: pids[i]) != nil {} }
            net.collectAll()
            net.deliverAll()
        }
        _ = try net[0].send([0], in: cid, as: pids[0], now: net.now)              // a1
        try settle()
        for i in 1..<4 { _ = try net[i].send([UInt8(i)], in: cid, as: pids[i], now: net.now) }   // b1 c1 d1
        try settle()
        _ = try net[2].send([9], in: cid, as: pids[2], now: net.now)              // c2 after everything
        try settle()
        // a2 reaches only b, and b's answer only a: both then fail.
        let a2 = try net[0].send([10], in: cid, as: pids[0], now: net.now)
        net.collectAll()
        net.deliver { $0.to == HostID(1) }
        net.discard { _ in true }
        while try net[1].receive(cid, as: pids[1]) != nil {}
        let b2 = try net[1].send([11], in: cid, as: pids[1], now: net.now)
        net.collectAll()
        net.deliver { $0.to == HostID(0) }
        net.discard { _ in true }
        while try net[0].receive(cid, as: pids[0]) != nil {}
        // n-stability before the failures, over the whole conversation: 3-stable messages are
        // followed by at least two participants other than their sender.
        let survivors = [2, 3]
        let threeStable = try net[2].image(cid)!.map(\.0).filter { m in try net[2].nStable(m, in: cid, as: pids[2]) >= 3 }
        #expect(try net[0].nStable(a2, in: cid, as: pids[0]) == 2)
        net.crash(0)
        net.crash(1)
        net.reboot(0)
        try net[0].restart(cid, as: pids[0], participants: pids, leaves: [], now: net.now)
        for _ in 0..<10 {
            net.collectAll()
            net.deliverAll()
            net.advance(by: 100_000_000)
        }
        let recovered = Set(net[0].image(cid)!.map(\.0))
        #expect(!threeStable.isEmpty && Set(threeStable).isSubset(of: recovered))
        #expect(recovered == Set(net[survivors[0]].image(cid)!.map(\.0)))
        #expect(!recovered.contains(a2) && !recovered.contains(b2))
    }

    /// A restarted participant's new sends wait until its image holds what it had sent, but not
    /// for a peer that answers nothing (it is suspected after its digests go unanswered).
    @Test func aNewSendAfterRestartWaitsForCatchUpButNotForADeadPeer() throws {
        let ring = try Ring(hosts: 3, config: Self.keepHistory)
        try ring.start()
        try ring.run(rounds: 2)
        let participants = try ring.net[2].participants(ring.cid)
        ring.net.crash(1)                               // gone for good
        try ring.crashAndRestart(2, participants: participants)
        let host = ring.net[2], cid = ring.cid, c = ring.pids[2]
        #expect(throws: PsyncError.wouldBlock(cid)) { try host.send([1], in: cid, as: c, now: ring.net.now) }
        ring.net.collect(2)
        for _ in 0..<40 {
            ring.net.deliverAll()
            ring.net.advance(by: 200_000_000)
            while try host.receive(cid, as: c) != nil {}
            ring.net.collect(2)
        }
        #expect(ring.net.log.contains { h, e in h == HostID(2) && e == .sendable(cid, c) })
        // Its image caught up with the survivor's, the dead peer notwithstanding.
        #expect(ring.net[2].frontier(cid) == ring.net[0].frontier(cid))
    }
}
