import Foundation
import Testing
@testable import Psync
import PsyncSimulator

/// Section 3.3: buffers freed once messages are held everywhere, graph nodes reclaimed by
/// `freeNode` and the threshold Θ, flow control, and the one-message rule of pending
/// conversations. Scenarios driven packet by packet (`Fixture`).
@Suite struct MemoryTests {
    /// Everybody receives everything in flight, repeatedly, until nothing moves.
    static func settle(_ f: Fixture) {
        for _ in 0..<50 {
            f.net.deliverAll()
            for i in f.pids.indices { f.receiveAll(i) }
            if f.net.inFlight.isEmpty { return }
        }
    }

    func payload(_ f: Fixture, _ m: MessageID, at i: Int) -> Result<[UInt8], PsyncError> {
        Result { () throws(PsyncError) in try f.net[i].payload(m, in: f.cid, as: f.pids[i]) }
    }

    /// A buffer is kept while some host may still ask for it (a lost message is answered from
    /// it), and freed once every host is known to hold it and the local participant received it.
    @Test func buffersAreFreedOnlyOnceEveryHostHoldsTheMessage() throws {
        let f = Fixture(3)
        let a1 = f.send(0, "root")
        Self.settle(f)
        let a2 = f.send(0, "lost on the way to c")
        f.lose(a2, to: [2])
        f.deliver(a2, to: [1])
        f.receiveAll(1)
        let b1 = f.send(1, "b follows a2")
        f.deliver(b1, to: [0])
        f.receiveAll(0)
        // c lacks a2: a and b must still be able to send it.
        #expect(payload(f, a2, at: 0) == .success(Array("lost on the way to c".utf8)))
        #expect(f.net[0].memory(f.cid)!.payloadsFreed[0] < 2)
        f.deliver(b1, to: [2])               // c holds b1, misses a2: it asks and is answered
        f.net.advance(by: 20_000_000)
        Self.settle(f)
        #expect(f.net.messages(2, f.cid).contains(a2))
        #expect(f.events(0).contains { if case .retransmitAnswered(_, _, let ms, _) = $0 { ms.contains(a2) } else { false } }
                || f.events(1).contains { if case .retransmitAnswered(_, _, let ms, _) = $0 { ms.contains(a2) } else { false } })
        // c's next message shows a and b that c holds a2; a's buffer goes, the id stays. (A
        // host collects every `collectionInterval × participants` steps: a few more rounds.)
        for round in 0..<4 {
            for i in [2, 0, 1] { f.send(i, "round \(round)") }
            Self.settle(f)
        }
        #expect(payload(f, a2, at: 0) == .failure(.payloadReclaimed(a2)))
        #expect(payload(f, a1, at: 1) == .failure(.payloadReclaimed(a1)))
        #expect(try f.net[0].contains(a2, in: f.cid, as: f.pids[0]))
        #expect(f.stable(a2, at: 0))
        // Nothing freed is ever sent again: a stale request for it gets no answer.
        let before = f.net[0].counters.retransmittedMessages
        _ = f.net[0].handle(.packet(.frontierRequest(FrontierRequest(conversation: f.cid, frontier: [], wanted: [a2])),
                                    from: HostID(2)), now: f.net.now)
        #expect(f.net[0].counters.retransmittedMessages == before)
    }

    /// With reclamation off (the bench's baseline) every buffer stays.
    @Test func keepingPayloadsFreesNothing() {
        var config = HostConfig()
        config.reclaimsPayloads = false
        let f = Fixture(2, config: config)
        let mids = Self.conversation(f, messages: 10)
        f.send(0, "last")
        Self.settle(f)
        for m in mids { #expect((try? f.net[1].payload(m, in: f.cid, as: f.pids[1])) != nil) }
        #expect(f.net[1].memory(f.cid)!.payloadsFreed.allSatisfy { $0 == 0 })
    }

    /// A long alternating conversation between two hosts; returns the ids in send order.
    static func conversation(_ f: Fixture, messages: Int) -> [MessageID] {
        var mids: [MessageID] = []
        for k in 0..<messages {
            mids.append(f.send(k % 2, "m\(k)"))
            settle(f)
        }
        return mids
    }

    /// `freeNode(m)` reclaims m and its predecessors once they are stable in the image; every
    /// operation that needs a reclaimed node says so with a typed error, and the ones that do
    /// not (membership, stability) still answer correctly.
    @Test func freeNodeReclaimsANodeAndItsPredecessors() throws {
        let f = Fixture(2)
        let mids = Self.conversation(f, messages: 200)
        let cut = mids[120]
        try f.net[0].freeNode(cut, in: f.cid, as: f.pids[0])
        f.send(0, "one more")
        Self.settle(f)
        let memory = f.net[0].memory(f.cid)!
        #expect(memory.liveNodes < 201 - 64, "\(memory.liveNodes) live nodes")
        #expect(memory.messages == 201)
        let reclaimed = mids[10], kept = mids[150]
        let host = f.net[0], cid = f.cid, a = f.pids[0]
        #expect(throws: PsyncError.reclaimed(reclaimed)) { try host.prev(reclaimed, in: cid, as: a) }
        #expect(throws: PsyncError.reclaimed(reclaimed)) { try host.next(reclaimed, in: cid, as: a) }
        #expect(throws: PsyncError.reclaimed(reclaimed)) { try host.payload(reclaimed, in: cid, as: a) }
        #expect(throws: PsyncError.reclaimed(reclaimed)) { try host.precedes(mids[5], reclaimed, in: cid, as: a) }
        #expect(try host.precedes(reclaimed, kept, in: cid, as: a))
        #expect(try host.stable(reclaimed, in: cid, as: a))
        #expect(try host.prev(kept, in: cid, as: a) == [mids[149]])
        #expect(try host.contains(reclaimed, in: cid, as: a))
        // Freeing what is already reclaimed is a no-op; host b, which freed nothing, keeps all.
        try host.freeNode(reclaimed, in: cid, as: a)
        #expect(f.net[1].memory(f.cid)!.liveNodes == 201)
    }

    /// Θ keeps the last Θ messages queryable; older nodes go once stable, in chunks, so the
    /// image stays within Θ plus a chunk; the images still hold the same messages.
    @Test func thresholdKeepsOnlyTheLastThetaMessagesQueryable() throws {
        var config = HostConfig()
        config.retainedNodes = 40
        let f = Fixture(2, config: config)
        let mids = Self.conversation(f, messages: 400)
        for i in 0..<2 {
            let memory = f.net[i].memory(f.cid)!
            #expect(memory.liveNodes <= 40 + 40 / 3 + 32 + 2, "h\(i): \(memory.liveNodes) live nodes")
            #expect(memory.nodesReclaimed.reduce(0, +) > 300)
            for m in mids.suffix(40) { _ = try f.net[i].prev(m, in: f.cid, as: f.pids[i]) }
            let old = mids[0]
            #expect(throws: PsyncError.reclaimed(old)) { try f.net[i].prev(old, in: f.cid, as: f.pids[i]) }
        }
        #expect(f.net[0].frontier(f.cid) == f.net[1].frontier(f.cid))
    }

    /// A message naming a reclaimed predecessor that is not its sender's newest reclaimed one
    /// cannot be placed (its clock is gone): it is dropped and traced, not trapped on.
    @Test func aMessageInTheContextOfAReclaimedNodeIsDropped() throws {
        var config = HostConfig()
        config.retainedNodes = 10
        let f = Fixture(2, config: config)
        let mids = Self.conversation(f, messages: 200)
        let next = MessageID(sender: 1, sequence: f.net[1].frontier(f.cid)![1] + 1)
        let forged = AddNode(conversation: f.cid, message: next, sender: f.pids[1], predecessors: [mids[2]], payload: [])
        f.net.collectAll()
        _ = f.net[0].handle(.packet(.addNode(forged), from: HostID(1)), now: f.net.now)
        #expect(f.drops(0, .reclaimedContext) == 1)
        #expect(f.net[0].frontier(f.cid) == f.net[1].frontier(f.cid))
    }

    /// Flow control: a host's sends block at its share of the buffer limit (`wouldBlock`,
    /// traced), and the host says `.sendable` once what it sent is held everywhere: here learned
    /// from the peer's next message (the digest a blocked sender sends is lost).
    @Test func sendBlocksAtTheShareAndResumesWhenMessagesSettle() throws {
        var config = HostConfig()
        config.bufferLimit = 6                       // 2 hosts: a share of 3 each
        let f = Fixture(2, config: config)
        for k in 0..<3 { f.send(0, "m\(k)") }
        #expect(try !f.net[0].canSend(f.cid, as: f.pids[0]))
        let host = f.net[0], cid = f.cid, a = f.pids[0]
        #expect(throws: PsyncError.wouldBlock(cid)) { try host.send([1], in: cid, as: a, now: .zero) }
        f.net.collect(0)
        #expect(f.events(0).contains { if case .sendBlocked(_, _, 3) = $0 { true } else { false } })
        #expect(f.net[0].counters.sendsBlocked == 1)
        #expect(f.net.discard { if case .frontierRequest = $0.packet { true } else { false } } == 1)
        f.net.deliverAll()
        f.receiveAll(1)
        #expect(!f.net.log.contains { h, e in h == HostID(0) && e == .sendable(f.cid, f.pids[0]) })
        f.send(1, "b has them all")
        f.net.deliverAll()
        #expect(f.net.log.contains { h, e in h == HostID(0) && e == .sendable(f.cid, f.pids[0]) })
        #expect(try f.net[0].canSend(f.cid, as: f.pids[0]))
        f.send(0, "goes through")
    }

    /// A blocked sender whose peer says nothing in the conversation asks it at once what it
    /// holds (a digest, reason `blocked`); the reply releases it, without waiting for the
    /// conversation to fall quiet. Nothing extra is sent before a send blocks.
    @Test func aBlockedSenderAsksItsPeersAtOnce() throws {
        var config = HostConfig()
        config.bufferLimit = 4
        let f = Fixture(2, config: config)
        for k in 0..<2 { f.send(0, "m\(k)") }
        f.net.deliverAll()
        f.receiveAll(1)
        #expect(try !f.net[0].canSend(f.cid, as: f.pids[0]))
        #expect(!f.events(0).contains { if case .frontierRequested = $0 { true } else { false } })
        let host = f.net[0], cid = f.cid, a = f.pids[0]
        #expect(throws: PsyncError.wouldBlock(cid)) { try host.send([9], in: cid, as: a, now: f.net.now) }
        f.net.collect(0)
        #expect(f.events(0).contains { if case .frontierRequested(_, [HostID(1)], .blocked) = $0 { true } else { false } })
        f.net.deliverAll()                         // no time passes: the digest and its reply
        #expect(try f.net[0].canSend(f.cid, as: f.pids[0]))
        #expect(f.net.log.contains { h, e in h == HostID(0) && e == .sendable(f.cid, f.pids[0]) })
    }

    /// Section 3.3: a pending conversation (no `passiveOpen` yet) stores one message, its root;
    /// the rest is discarded and pulled back when the participant opens it.
    @Test func aPendingConversationKeepsOneMessageAndPullsTheRestOnOpening() throws {
        let net = ManualNetwork(hostCount: 2)
        let pids = (0..<2).map { ParticipantID(host: HostID(UInt32($0))) }
        let cid = ConversationID(5)
        try net[0].activeOpen(pids, as: pids[0], conversation: cid)
        for k in 0..<6 { _ = try net[0].send(Array("m\(k)".utf8), in: cid, as: pids[0], now: net.now) }
        net.collectAll()
        net.deliverAll()
        #expect(net[1].frontier(cid) == [1, 0])
        #expect(net[1].counters.drops[.pendingConversation] == 5)
        #expect(net[1].passiveOpen(pids[1], now: net.now) == cid)
        net.collectAll()
        net.deliverAll()
        var received: [MessageID] = []
        while let (m, _) = try net[1].receive(cid, as: pids[1]) { received.append(m) }
        #expect(received == (1...6).map { MessageID(sender: 0, sequence: $0) })
    }

    /// The same under the paper's recovery policy: one broadcast request with the leaves.
    @Test func aPendingConversationPullsUnderThePaperPolicyToo() throws {
        let net = ManualNetwork(hostCount: 3, config: HostConfig(recovery: .paper))
        let pids = (0..<3).map { ParticipantID(host: HostID(UInt32($0))) }
        let cid = ConversationID(6)
        try net[0].activeOpen(pids, as: pids[0], conversation: cid)
        _ = net[2].passiveOpen(pids[2], now: net.now)
        for k in 0..<4 { _ = try net[0].send(Array("m\(k)".utf8), in: cid, as: pids[0], now: net.now) }
        net.collectAll()
        net.deliverAll()
        #expect(net[1].frontier(cid) == [1, 0, 0])
        _ = net[1].passiveOpen(pids[1], now: net.now)
        net.collectAll()
        net.deliverAll()
        #expect(net[1].frontier(cid) == [4, 0, 0])
    }

    /// Past the bound on pending conversations the SC itself is discarded (Section 3.3); the
    /// opener's tail recovery brings the conversation back once the first one is opened, and
    /// nothing of it is lost.
    @Test func aConversationPastThePendingLimitIsRecovered() throws {
        var config = HostConfig()
        config.pendingConversationLimit = 1
        let net = ManualNetwork(hostCount: 2, config: config)
        let pids = (0..<2).map { ParticipantID(host: HostID(UInt32($0))) }
        for c in [ConversationID(1), ConversationID(2)] {
            try net[0].activeOpen(pids, as: pids[0], conversation: c)
            for k in 0..<3 { _ = try net[0].send(Array("m\(k)".utf8), in: c, as: pids[0], now: net.now) }
        }
        net.collectAll()
        net.deliverAll()
        #expect(net[1].counters.drops[.pendingLimit] ?? 0 >= 1)
        #expect(net[1].passiveOpen(pids[1], now: net.now) == ConversationID(1))
        net.collectAll()
        var second: ConversationID?
        for _ in 0..<40 where second == nil {
            net.advance(by: 50_000_000)
            net.deliverAll()
            second = net[1].passiveOpen(pids[1], now: net.now)
            net.collectAll()
        }
        #expect(second == ConversationID(2))
        for _ in 0..<20 {
            net.advance(by: 50_000_000)
            net.deliverAll()
        }
        for c in [ConversationID(1), ConversationID(2)] {
            var received = 0
            while try net[1].receive(c, as: pids[1]) != nil { received += 1 }
            #expect(received == 3, "\(c)")
        }
    }

    /// A configuration written before Section 3.3 (a trace's header) decodes as the run it
    /// describes had it: every payload kept, no threshold, no limit; a new one round-trips.
    @Test func configurationsFromOlderTracesKeepTheirMeaning() throws {
        let old = #"{"recovery":"paper","holdingQueueLimit":7,"reportsEvents":true}"#
        let decoded = try JSONDecoder().decode(HostConfig.self, from: Data(old.utf8))
        #expect(decoded.recovery == .paper && decoded.holdingQueueLimit == 7 && decoded.sourceRequestAttempts == 1)
        #expect(!decoded.reclaimsPayloads && decoded.retainedNodes == nil && decoded.bufferLimit == nil)
        var config = HostConfig()
        config.retainedNodes = 100
        config.bufferLimit = 64
        #expect(try JSONDecoder().decode(HostConfig.self, from: JSONEncoder().encode(config)) == config)
    }

    /// `resend` of a message whose buffer is freed (every host holds it, learned from digests
    /// on a quiet conversation) but that is not stable in the view asks the question a resend
    /// asks, what follows it, without the duplicate: a digest to every host.
    @Test func resendingAFreedMessageAsksForWhatFollows() throws {
        let f = Fixture(3)
        let a1 = f.send(0, "alone")
        Self.settle(f)
        for _ in 0..<10 {
            f.net.advance(by: 100_000_000)
            Self.settle(f)
        }
        let host = f.net[0], cid = f.cid, a = f.pids[0]
        #expect(throws: PsyncError.payloadReclaimed(a1)) { try host.payload(a1, in: cid, as: a) }
        #expect(!f.stable(a1, at: 0))
        let before = f.net.log.count
        #expect(try host.resend(a1, in: cid, as: a, now: f.net.now))
        f.net.collect(0)
        let after = f.net.log[before...].compactMap { h, e -> EngineEvent? in
            if h == HostID(0), case .event(let ev) = e { return ev }
            return nil
        }
        #expect(after.contains { if case .frontierRequested(let fr, let to, .digest) = $0 { fr.isDigest && to.count == 2 } else { false } })
        #expect(!after.contains { if case .resent = $0 { true } else { false } })
    }

    /// A local participant that has not opened the conversation does not hold the host's flow
    /// control back (its buffers stay until it opens): the open one on the same host keeps
    /// sending through a long exchange with a share of 2.
    @Test func aPendingLocalParticipantDoesNotBlockTheOpenOne() throws {
        var config = HostConfig()
        config.bufferLimit = 4
        let net = ManualNetwork(hostCount: 2, config: config)
        let p0 = ParticipantID(host: HostID(0)), p1 = ParticipantID(host: HostID(1), local: 1)
        let p2 = ParticipantID(host: HostID(1), local: 2)
        let cid = ConversationID(8)
        try net[0].activeOpen([p0, p1, p2], as: p0, conversation: cid)
        _ = net[1].passiveOpen(p1, now: net.now)
        for k in 0..<40 {
            let (host, pid) = k % 2 == 0 ? (net[0], p0) : (net[1], p1)
            _ = try host.send([UInt8(k)], in: cid, as: pid, now: net.now)
            net.collectAll()
            net.deliverAll()
            while try net[0].receive(cid, as: p0) != nil {}
            while try net[1].receive(cid, as: p1) != nil {}
            net.collectAll()
            net.deliverAll()
        }
        #expect(net[1].counters.sendsBlocked == 0 && net[0].counters.sendsBlocked == 0)
        #expect(net[1].memory(cid)!.payloadsFreed.allSatisfy { $0 == 0 }, "p2 has received nothing yet")
    }

    /// A resent copy of a message whose node was reclaimed is answered with what follows it
    /// that is not freed: here the message the resending host lacks, after a few not yet
    /// collected.
    @Test func aResentCopyOfAReclaimedMessageIsAnsweredWithWhatFollows() throws {
        var config = HostConfig()
        config.retainedNodes = 10
        let f = Fixture(2, config: config)
        let mids = Self.conversation(f, messages: 200)
        #expect(f.net[0].memory(f.cid)!.nodesReclaimed[0] > 10)
        let x = f.send(0, "not yet at b")
        f.lose(x)
        let old = mids[4]
        let copy = AddNode(conversation: f.cid, message: old, sender: f.pids[old.senderIndex], predecessors: [],
                           payload: [], resent: true)
        let effects = f.net[0].handle(.packet(.addNode(copy), from: HostID(1)), now: f.net.now)
        let sent = effects.compactMap { e -> MessageID? in
            if case .transmit(.addNode(let an), [HostID(1)]) = e { return an.message }
            return nil
        }
        // x, and the newest messages not yet collected (collection runs every few steps); never
        // a freed one.
        #expect(sent.last == x)
        #expect(sent.count < 10 && sent.allSatisfy { !f.net[0].memory(f.cid)!.payloadsFreedIncludes($0) })
    }
}

extension ImageMemory {
    func payloadsFreedIncludes(_ m: MessageID) -> Bool { m.sequence <= payloadsFreed[m.senderIndex] }
}
