import Testing
@testable import Psync
import PsyncSimulator

/// Bad input from the network is a traced drop, never a crash, and loses no good data.
@Suite struct InputValidationTests {
    static func opened() -> Fixture {
        let f = Fixture(3)
        f.send(0)
        f.net.deliverAll()
        return f
    }

    static func an(_ f: Fixture, _ m: MessageID, sender: ParticipantID, preds: [MessageID]) -> Packet {
        .addNode(AddNode(conversation: f.cid, message: m, sender: sender, predecessors: preds, payload: []))
    }

    func feed(_ f: Fixture, _ host: Int, _ p: Packet, from: UInt32) {
        _ = f.net[host].handle(.packet(p, from: HostID(from)), now: f.net.now)
    }

    @Test func malformedBytesAreDropped() {
        let f = Self.opened()
        for bytes: [UInt8] in [[], [0x50], [0x50, 0x53, 1, 2, 0, 0xFF], Array(repeating: 0xFF, count: 64)] {
            _ = f.net[1].handle(.datagram(bytes, from: HostID(0)), now: f.net.now)
        }
        #expect(f.drops(1, .malformed) == 4)
        #expect(f.net[1].image(f.cid)?.count == 1)
    }

    @Test func nonParticipantsAreDropped() {
        let f = Self.opened()
        let stranger = ParticipantID(host: HostID(9))
        feed(f, 1, Self.an(f, mid("a2"), sender: f.pids[0], preds: [mid("a1")]), from: 9)
        feed(f, 1, Self.an(f, mid("d1"), sender: stranger, preds: [mid("a1")]), from: 0)
        feed(f, 1, Self.an(f, mid("b1"), sender: stranger, preds: [mid("a1")]), from: 0)
        feed(f, 1, .retransmitRequest(RetransmitRequest(conversation: f.cid, message: nil, leaves: [])), from: 9)
        #expect(f.drops(1, .nonParticipant) == 4)
        #expect(f.net[1].image(f.cid)?.count == 1)
    }

    @Test func contradictionsAreDropped() {
        let f = Self.opened()
        // a3 before a2 with all predecessors present: a sender's messages are a chain.
        feed(f, 1, Self.an(f, mid("a3"), sender: f.pids[0], preds: [mid("a1")]), from: 0)
        // A non-root message without predecessors.
        feed(f, 1, Self.an(f, mid("b1"), sender: f.pids[1], preds: []), from: 0)
        // A different participant list for a known conversation.
        feed(f, 1, .startConversation(StartConversation(conversation: f.cid, participants: [f.pids[0], f.pids[1]], payload: [])), from: 0)
        // A redundant edge: c2 names both c1 and its ancestor a1.
        feed(f, 1, Self.an(f, mid("c1"), sender: f.pids[2], preds: [mid("a1")]), from: 2)
        feed(f, 1, Self.an(f, mid("c2"), sender: f.pids[2], preds: [mid("a1"), mid("c1")]), from: 2)
        #expect(f.drops(1, .contradiction) == 4)
        #expect(f.net.messages(1, f.cid) == [mid("a1"), mid("c1")])
    }

    @Test func unknownAndForeignConversationsAreDropped() {
        let f = Self.opened()
        let other = ConversationID(7)
        feed(f, 1, .retransmitRequest(RetransmitRequest(conversation: other, message: nil, leaves: [])), from: 0)
        #expect(f.drops(1, .unknownConversation) == 1)
        let elsewhere = [ParticipantID(host: HostID(0)), ParticipantID(host: HostID(2))]
        feed(f, 1, .startConversation(StartConversation(conversation: other, participants: elsewhere, payload: [])), from: 0)
        feed(f, 1, .addNode(AddNode(conversation: other, message: mid("a2"), sender: elsewhere[0], predecessors: [mid("a1")], payload: [])), from: 0)
        #expect(f.drops(1, .notTakingPart) == 2)
        feed(f, 1, .restart(Restart(conversation: other, participant: f.pids[0], leaves: [])), from: 0)
        #expect(f.drops(1, .unknownConversation) == 2)
    }

    @Test func closedConversationsDropLaterPackets() throws {
        let f = Self.opened()
        try f.net[1].close(f.cid, as: f.pids[1])
        f.send(0)
        f.net.deliverAll()
        #expect(f.drops(1, .closedConversation) == 1)
        #expect(throws: PsyncError.unknownConversation(f.cid)) { try f.net[1].receive(f.cid, as: f.pids[1]) }
    }

    /// Section 3.3: packets for a conversation whose SC is missing are bounded. The dropped one
    /// is the last message: under the paper's rule only `resend` brings it; tail recovery
    /// brings it by itself.
    @Test(arguments: RecoveryPolicy.allCases) func orphanQueueIsBounded(policy: RecoveryPolicy) throws {
        var config = HostConfig(recovery: policy)
        config.orphanPacketLimit = 2
        let f = Fixture(2, config: config)
        f.lose(f.send(0))
        for _ in 0..<3 { f.send(0) }
        f.net.deliver { if case .addNode = $0.packet { return true } else { return false } }
        #expect(f.drops(1, .orphanQueueFull) == 1)
        f.net.deliverAll()
        f.net.advance(by: 1_000_000_000)
        guard policy == .paper else {
            #expect(f.receiveAll(1) == [mid("a1"), mid("a2"), mid("a3"), mid("a4")])
            return
        }
        #expect(f.receiveAll(1) == [mid("a1"), mid("a2"), mid("a3")])
        try f.net[0].resend(mid("a4"), in: f.cid, as: f.pids[0], now: f.net.now)
        f.net.collect(0)
        f.net.deliverAll()
        #expect(f.receiveAll(1) == [mid("a4")])
    }

    @Test func operationErrorsAreTyped() {
        let f = Self.opened()
        let a = f.net[0]
        #expect(throws: PsyncError.notInView(mid("b9"))) { try a.resend(mid("b9"), in: f.cid, as: f.pids[0], now: f.net.now) }
        #expect(throws: PsyncError.notLocalParticipant(f.pids[1], f.cid)) { try a.send([], in: f.cid, as: f.pids[1], now: f.net.now) }
        #expect(throws: PsyncError.conversationExists(f.cid)) { try a.activeOpen(f.pids, as: f.pids[0], conversation: f.cid) }
        #expect(throws: PsyncError.self) { try a.activeOpen([f.pids[1]], as: f.pids[0], conversation: ConversationID(9)) }
        #expect(throws: PsyncError.self) { try a.maskOut(f.pids[0], in: f.cid, as: f.pids[0]) }
        // A participant whose conversation is pending (no passiveOpen yet) cannot send.
        let net = ManualNetwork(hostCount: 2)
        let pids = [ParticipantID(host: HostID(0)), ParticipantID(host: HostID(1))]
        #expect(throws: Never.self) {
            try net[0].activeOpen(pids, as: pids[0], conversation: f.cid)
            try net[0].send([], in: f.cid, as: pids[0], now: .zero)
        }
        net.collectAll()
        net.deliverAll()
        #expect(throws: PsyncError.notOpen(pids[1], f.cid)) { try net[1].send([], in: f.cid, as: pids[1], now: .zero) }
        #expect(net[1].passiveOpen(pids[1], now: .zero) == f.cid)
        #expect(throws: Never.self) { try net[1].send([], in: f.cid, as: pids[1], now: .zero) }
    }
}
