import Testing
@testable import Psync
import PsyncSimulator

/// Opening, pending conversations and the blocking operations with timeouts (Sections 2, 3.1.2,
/// 3.2.2), and several participants on one host (Section 3.1.1).
@Suite struct OpeningAndWaitingTests {
    let pids = [ParticipantID(host: HostID(0)), ParticipantID(host: HostID(1))]

    @Test func pendingConversationsQueueUntilPassiveOpen() throws {
        let net = ManualNetwork(hostCount: 2)
        for c in [ConversationID(1), ConversationID(2)] {
            try net[0].activeOpen(pids, as: pids[0], conversation: c)
            try net[0].send([], in: c, as: pids[0], now: .zero)
        }
        net.collectAll()
        net.deliverAll()
        #expect(net[1].passiveOpen(pids[1], now: .zero) == ConversationID(1))
        #expect(net[1].passiveOpen(pids[1], now: .zero) == ConversationID(2))
        #expect(net[1].passiveOpen(pids[1], now: .zero) == nil)
    }

    @Test func pendingConversationsAreBounded() throws {
        var config = HostConfig()
        config.pendingConversationLimit = 1
        let net = ManualNetwork(hostCount: 2, config: config)
        for c in [ConversationID(1), ConversationID(2)] {
            try net[0].activeOpen(pids, as: pids[0], conversation: c)
            try net[0].send([], in: c, as: pids[0], now: .zero)
        }
        net.collectAll()
        net.deliverAll()
        #expect(net[1].counters.drops[.pendingLimit] == 1)
        #expect(net[1].passiveOpen(pids[1], now: .zero) == ConversationID(1))
    }

    @Test func passiveOpenAndReceiveTimeOut() throws {
        let net = ManualNetwork(hostCount: 2)
        #expect(net[1].passiveOpen(pids[1], now: .zero, timeoutNanoseconds: 5_000_000) == nil)
        net.collect(1)
        net.advance(by: 4_000_000)
        #expect(!net.log.contains { $0.1 == .timedOut(.passiveOpen(pids[1])) })
        net.advance(by: 1_000_000)
        #expect(net.log.contains { $0.1 == .timedOut(.passiveOpen(pids[1])) })

        let cid = ConversationID(3)
        try net[0].activeOpen(pids, as: pids[0], conversation: cid)
        #expect(try !net[0].waitForMessage(cid, as: pids[0], now: net.now, timeoutNanoseconds: 1_000_000))
        net.collect(0)
        net.advance(by: 2_000_000)
        #expect(net.log.contains { $0.1 == .timedOut(.receive(cid, pids[0])) })
    }

    @Test func waitingReceiveWakesWhenAMessageArrives() throws {
        let net = ManualNetwork(hostCount: 2)
        let cid = ConversationID(3)
        try net[0].activeOpen(pids, as: pids[0], conversation: cid)
        _ = net[1].passiveOpen(pids[1], now: .zero)
        try net[0].send([9], in: cid, as: pids[0], now: .zero)
        net.collectAll()
        net.deliverAll()
        #expect(net.log.contains { $0.1 == .opened(cid, pids[1]) })
        #expect(try net[1].waitForMessage(cid, as: pids[1], now: .zero))
        _ = try net[1].receive(cid, as: pids[1])
        #expect(try !net[1].waitForMessage(cid, as: pids[1], now: .zero))
        try net[0].send([8], in: cid, as: pids[0], now: .zero)
        net.collectAll()
        net.deliverAll()
        #expect(net.log.last { $0.0 == HostID(1) }?.1 == .messageAvailable(cid, pids[1]))
    }

    /// Two participants on host 0 share its image but have their own views; the third is remote.
    @Test func severalParticipantsOnOneHost() throws {
        let net = ManualNetwork(hostCount: 2)
        let x = ParticipantID(host: HostID(0), local: 0)
        let y = ParticipantID(host: HostID(0), local: 1)
        let z = ParticipantID(host: HostID(1))
        let cid = ConversationID(4)
        try net[0].activeOpen([x, y, z], as: x, conversation: cid)
        let a1 = try net[0].send([], in: cid, as: x, now: .zero)
        #expect(net[0].passiveOpen(y, now: .zero) == cid)
        _ = net[1].passiveOpen(z, now: .zero)
        net.collectAll()
        #expect(net.inFlight.count == 1, "one packet per remote host")
        net.deliverAll()
        #expect(try net[0].receive(cid, as: y)?.0 == a1)
        #expect(try net[0].receive(cid, as: x) == nil, "never one's own message")
        let b1 = try net[0].send([], in: cid, as: y, now: .zero)
        #expect(try net[0].receive(cid, as: x)?.0 == b1)
        #expect(try net[1].receive(cid, as: z)?.0 == a1)
        net.collectAll()
        net.deliverAll()
        #expect(try net[1].receive(cid, as: z)?.0 == b1)
        let c1 = try net[1].send([], in: cid, as: z, now: .zero)
        net.collectAll()
        net.deliverAll()
        #expect(try net[0].receive(cid, as: x)?.0 == c1)
        #expect(try net[0].receive(cid, as: y)?.0 == c1)
        #expect(try net[0].stable(a1, in: cid, as: x))
        #expect(try !net[0].stable(c1, in: cid, as: x))
    }
}
