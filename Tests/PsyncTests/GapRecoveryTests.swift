import Testing
@testable import Psync
import PsyncSimulator

/// `RecoveryPolicy.gaps`: exact requests, one request per gap, backoff and escalation, cut
/// answers, tail recovery and their bounds, each against the paper's rule where they differ.
@Suite struct GapRecoveryTests {
    /// The messages of every retransmission answer host i sent, in order, and whether each was cut.
    static func answers(_ f: Fixture, _ i: Int) -> [([MessageID], Bool)] {
        f.events(i).compactMap { e in
            if case .retransmitAnswered(_, _, let ms, let cut) = e { return (ms, cut) }
            return nil
        }
    }

    /// The scenario of the next two tests: a sends a2...a8, which reach b but not c; c sends c1,
    /// lost on its way to b; b sends b1 in the context of a8 and c receives it. c holds b1 and
    /// asks b, which lacks c1: the requester's newest own message and only leaf. Batch limit 3.
    static func responderLacksTheRequestersLeaf(_ policy: RecoveryPolicy) -> (Fixture, sent: [MessageID], b1: MessageID) {
        var config = HostConfig(recovery: policy)
        config.retransmitBatchLimit = 3
        let f = Fixture(3, config: config)
        f.send(0)
        f.net.deliverAll()
        for i in 1...2 { f.receiveAll(i) }
        let sent = (2...8).map { _ in f.send(0) }
        for m in sent { f.deliver(m, to: [1]); f.lose(m, to: [2]) }
        f.receiveAll(1)
        let c1 = f.send(2)
        f.lose(c1, to: [1]); f.deliver(c1, to: [0])
        let b1 = f.send(1)
        f.deliver(b1, to: [2]); f.lose(b1, to: [0])
        return (f, sent, b1)
    }

    /// Figure 5's request tells the responder nothing about senders other than c, so its answer
    /// would start from the conversation's first message, which the requester has. The
    /// frontier request is answered with exactly the missing closure a2...a8, in batches of the
    /// limit, each cut batch making the requester ask again at once.
    @Test func answerIsExactlyTheMissingClosureInCutBatches() throws {
        let (f, sent, b1) = Self.responderLacksTheRequestersLeaf(.gaps)
        #expect(f.net[2].heldCount(f.cid) == 1)
        f.net.advance(by: 10_000_000)
        let requests = f.requests(2)
        #expect(requests.count == 3, "the first request, then one more per cut answer: \(requests.map(\.reason))")
        #expect(requests.allSatisfy { $0.to == [HostID(1)] && $0.reason == "source" })
        let answers = Self.answers(f, 1)
        #expect(answers.map(\.0) == [Array(sent[0..<3]), Array(sent[3..<6]), [sent[6]]])
        #expect(answers.map(\.1) == [true, true, false])
        #expect(f.receiveAll(2) == sent + [b1])
        #expect(f.drops(2, .duplicate) == 0, "nothing the requester had was sent again")
    }

    /// The same situation under the paper's rule: the answer starts with a1, which the
    /// requester has (the weakness the frontier removes).
    @Test func paperRequestFromALeafTheResponderLacksStartsAtTheRoot() throws {
        let (f, sent, _) = Self.responderLacksTheRequestersLeaf(.paper)
        f.net.advance(by: 11_000_000)
        #expect(Self.answers(f, 1).first?.0 == [.root, sent[0], sent[1]])
    }

    /// Four held messages (from four senders) wait on one lost message: one request, not four;
    /// under the paper's rule, four. The four senders then fail, so no answer ends the wait
    /// early; the survivor a has the message and answers when asked.
    @Test(arguments: RecoveryPolicy.allCases) func heldMessagesSharingAGapShareItsRequest(policy: RecoveryPolicy) {
        let f = Fixture(6, config: HostConfig(recovery: policy))
        f.send(0)
        f.net.deliverAll()
        for i in 1..<6 { f.receiveAll(i) }
        let a2 = f.send(0)
        f.deliver(a2, to: [1, 2, 3, 4]); f.lose(a2, to: [5])
        var held: [MessageID] = []
        for i in 1...4 {
            f.receiveAll(i)
            let m = f.send(i)
            f.deliver(m, to: [5]); f.lose(m)
            held.append(m)
        }
        #expect(f.net[5].heldCount(f.cid) == 4)
        for i in 1...4 { f.net.crash(i) }
        f.net.advance(by: 9_000_000)
        #expect(f.requests(5).isEmpty)
        f.net.advance(by: 2_000_000)
        switch policy {
        case .paper: #expect(f.requests(5).count == 4, "one request per held message")
        case .gaps: #expect(f.requests(5).count == 1, "one request for the gap")
        }
        f.net.advance(by: 2_000_000_000)
        #expect(f.net[5].heldCount(f.cid) == 0)
        #expect(f.receiveAll(5) == [a2] + held)
    }

    /// Requests for a gap nobody answers back off (40, 80, 160, 320, 320 ms, plus at most a
    /// quarter of jitter), escalate, and stop after `requestAttempts`: the held message is
    /// discarded with a traced reason.
    @Test func unansweredGapBacksOffEscalatesAndDiscards() {
        let f = Fixture(3)
        f.send(0)
        f.net.deliverAll()
        for i in 1...2 { f.receiveAll(i) }
        let a2 = f.send(0)
        f.lose(a2)
        let a3 = f.send(0)
        f.deliver(a3, to: [2]); f.lose(a3)
        f.net.crash(0)
        // Host 1 lacks a2 too: nobody can answer. Step 1 ms at a time and note when requests go.
        var times: [UInt64] = []
        for _ in 0..<5_000 {
            let before = f.requests(2).count
            f.net.advance(by: 1_000_000)
            if f.requests(2).count > before { times.append(f.net.now.nanoseconds) }
        }
        let reasons = f.requests(2).map(\.reason)
        #expect(reasons == ["source", "source", "member", "broadcast", "broadcast", "broadcast", "broadcast", "broadcast"])
        let waits = zip(times.dropFirst(), times).map { $0 - $1 }
        let base: [UInt64] = [40, 80, 160, 320, 320, 320, 320].map { $0 * 1_000_000 }
        #expect(waits.count == base.count)
        for (wait, b) in zip(waits, base) { #expect(wait >= b && wait <= b + b / 4 + 1_000_000, "wait \(wait) for base \(b)") }
        #expect(f.net[2].heldCount(f.cid) == 0)
        #expect(f.drops(2, .discardedAfterFailedRequest) == 1)
    }

    /// The last message is lost and nothing follows it: tail recovery brings it, with no
    /// `resend` (the last-ACK problem, Section 3.2.2). Under the paper's rule it stays lost.
    @Test(arguments: RecoveryPolicy.allCases) func lostLastMessageIsRecoveredByDigests(policy: RecoveryPolicy) {
        let f = Fixture(3, config: HostConfig(recovery: policy))
        f.send(0)
        f.net.deliverAll()
        for i in 1...2 { f.receiveAll(i) }
        let last = f.send(1)
        f.deliver(last, to: [0]); f.lose(last, to: [2])
        f.net.advance(by: 2_000_000_000)
        #expect(f.net.messages(2, f.cid).contains(last) == (policy == .gaps))
        if policy == .gaps {
            #expect(f.net[0].counters.digestsSent + f.net[1].counters.digestsSent > 0)
        }
    }

    /// The SC and everything after it are lost to a host: nothing tells it the conversation
    /// exists but a digest, which it answers with a request for the conversation from its root.
    @Test func hostThatLostEverythingLearnsOfTheConversationFromADigest() {
        let f = Fixture(2)
        f.lose(f.send(0, "only"))
        f.net.advance(by: 500_000_000)
        #expect(f.net.log.contains { $0.0 == HostID(1) && $0.1 == .opened(f.cid, f.pids[1]) })
        #expect(f.receiveAll(1) == [.root])
        #expect(f.requests(1).map(\.reason) == ["orphan"])
    }

    /// Digests to a peer that never answers (crashed) stop after `digestAttempts` rounds, so a
    /// run falls quiet; a masked-out peer gets none at all.
    @Test func digestsStopForASilentPeerAndSkipAMaskedOne() throws {
        let f = Fixture(3)
        f.send(0)
        f.net.deliverAll()
        for i in 1...2 { f.receiveAll(i) }
        f.net.crash(2)
        let a2 = f.send(0)
        f.deliver(a2, to: [1])
        f.receiveAll(1)
        f.net.advance(by: 10_000_000_000)
        let digests = f.events(0).compactMap { e -> [HostID]? in
            if case .frontierRequested(let fr, let to, .digest) = e, fr.isDigest { return to }
            return nil
        }
        // Host 1 answers its first digest; the silent host gets `digestAttempts` of them.
        let toSilent = digests.filter { $0.contains(HostID(2)) }
        #expect(toSilent.count == HostConfig().digestAttempts)
        #expect(f.events(0).contains { if case .digestsStopped(_, [HostID(2)]) = $0 { true } else { false } })
        // Masked out, the crashed peer is no longer a digest target: new activity sends none to it.
        try f.net[0].maskOut(f.pids[2], in: f.cid, as: f.pids[0])
        let seen = f.events(0).count
        let a3 = f.send(0)
        f.lose(a3, to: [1])
        f.net.advance(by: 10_000_000_000)
        let after = f.events(0).dropFirst(seen).compactMap { e -> [HostID]? in
            if case .frontierRequested(let fr, let to, _) = e, fr.isDigest { return to }
            return nil
        }
        #expect(!after.isEmpty, "host 1 still lacks a3")
        #expect(after.allSatisfy { $0 == [HostID(1)] })
        #expect(f.net.messages(1, f.cid).contains(a3))
    }

    /// Frontier requests from a non-participant, or naming a sender outside the participant
    /// list, are traced drops; nothing is answered.
    @Test func badFrontierRequestsAreDropped() {
        let f = Fixture(2)
        f.send(0)
        f.net.deliverAll()
        let stranger = HostID(9)
        let fromStranger = f.net[0].handle(.packet(.frontierRequest(FrontierRequest(conversation: f.cid, frontier: [], wanted: [.root])), from: stranger), now: f.net.now)
        #expect(!fromStranger.contains { if case .transmit = $0 { true } else { false } })
        #expect(f.drops(0, .nonParticipant) == 1)
        let outside = MessageID(sender: 7, sequence: 1)
        let bad = f.net[0].handle(.packet(.frontierRequest(FrontierRequest(conversation: f.cid, frontier: [outside], wanted: [])), from: HostID(1)), now: f.net.now)
        #expect(!bad.contains { if case .transmit = $0 { true } else { false } })
        #expect(f.drops(0, .contradiction) == 1)
    }
}

/// Requests are network input: any frontier, wanted or held list, and any leaf, including
/// sequence numbers at UInt32.max, is answered or dropped, never a trap.
@Suite struct RequestInputTests {
    @Test func extremeAndRandomRequestsNeverTrap() {
        let f = Fixture(3)
        f.send(0)
        f.net.deliverAll()
        for i in 1...2 { f.receiveAll(i) }
        for _ in 0..<5 { f.send(1) }
        f.net.deliverAll()
        var rng = SplitMix64(seed: 0xF00D)
        let sequences: [UInt32] = [1, 2, 3, 6, 7, .max - 1, .max]
        func mid() -> MessageID {
            MessageID(sender: Int(rng.next() % 4), sequence: rng.next() % 3 == 0 ? sequences[Int(rng.next() % 7)] : UInt32(1 + rng.next() % 8))
        }
        func mids() -> [MessageID] { (0..<Int(rng.next() % 5)).map { _ in mid() } }
        var answered = 0
        for k in 0..<3_000 {
            let packet: Packet = switch k % 3 {
            case 0: .frontierRequest(FrontierRequest(conversation: f.cid, frontier: mids(), wanted: mids(), held: mids()))
            case 1: .frontierRequest(FrontierRequest(conversation: f.cid, frontier: mids(), wanted: [], held: mids(), isReply: rng.next() % 2 == 0))
            default: .retransmitRequest(RetransmitRequest(conversation: f.cid, message: rng.next() % 2 == 0 ? mid() : nil, leaves: mids()))
            }
            let effects = f.net[0].handle(.packet(packet, from: HostID(UInt32(1 + rng.next() % 2))), now: f.net.now)
            if effects.contains(where: { if case .transmit(.addNode, _) = $0 { true } else { false } }) { answered += 1 }
        }
        #expect(answered > 100, "well-formed requests among the random ones are answered")
        let top = MessageID(sender: 1, sequence: .max)
        let none = f.net[0].handle(.packet(.frontierRequest(FrontierRequest(conversation: f.cid, frontier: [top], wanted: [top])), from: HostID(2)), now: f.net.now)
        #expect(!none.contains { if case .transmit(.addNode, _) = $0 { true } else { false } })
    }
}

/// Tail recovery through a batch limit: eight last messages lost to one host, nothing after
/// them, answers cut at 2: every cut brings the next batch at once, and the images converge.
@Suite struct CutTailTests {
    @Test func lostTailLongerThanTheBatchLimitIsRecoveredInBatches() {
        var config = HostConfig()
        config.retransmitBatchLimit = 2
        let f = Fixture(2, config: config)
        f.send(0)
        f.net.deliverAll()
        f.receiveAll(1)
        let tail = (0..<8).map { _ in f.send(0) }
        for m in tail { f.lose(m) }
        let b1 = f.send(1)
        f.lose(b1)
        f.net.advance(by: 1_000_000_000)
        #expect(f.net.messages(1, f.cid).isSuperset(of: tail))
        #expect(f.net.messages(0, f.cid).contains(b1))
        let answers = GapRecoveryTests.answers(f, 0)
        #expect(answers.filter(\.1).count >= 3, "cut answers: \(answers.map(\.1))")
        #expect(answers.allSatisfy { $0.0.count <= 2 })
    }
}
