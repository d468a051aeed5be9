import Testing
@testable import Psync
import PsyncSimulator

/// Section 3.2.4: mask_out removes a participant from the local definition of P; its messages
/// are discarded unless a held message from another participant depends on them.
@Suite struct MaskingTests {
    static func started() -> Fixture {
        let f = Fixture(3)
        f.send(0)
        f.net.deliverAll()
        f.receiveAll(1); f.receiveAll(2)
        return f
    }

    @Test func maskedParticipantsMessagesAreDiscarded() throws {
        let f = Self.started()
        try f.net[0].maskOut(f.pids[2], in: f.cid, as: f.pids[0])
        let c1 = f.send(2)
        f.net.deliverAll()
        #expect(f.drops(0, .masked) == 1)
        #expect(!f.net.messages(0, f.cid).contains(c1))
        #expect(f.net.messages(1, f.cid).contains(c1))
    }

    @Test func maskedMessagesNeededByHeldMessagesAreKept() throws {
        let f = Self.started()
        try f.net[0].maskOut(f.pids[2], in: f.cid, as: f.pids[0])
        let c1 = f.send(2)
        f.deliver(c1, to: [1])
        f.receiveAll(1)
        let b1 = f.send(1)             // in the context of c1
        f.deliver(b1, to: [0])
        #expect(f.net[0].heldCount(f.cid) == 1)
        f.net.advance(by: 1_000_000_000)
        f.net.deliverAll()
        #expect(f.net.messages(0, f.cid).isSuperset(of: [c1, b1]))
        #expect(f.receiveAll(0) == [c1, b1])
    }

    @Test func stabilityIsOverTheMaskedSetAndMaskInRestoresIt() throws {
        let f = Self.started()
        let a2 = f.send(0)
        f.net.deliverAll()
        f.receiveAll(1)
        f.send(1)
        f.net.deliverAll()
        f.receiveAll(0)
        #expect(!f.stable(a2, at: 0))
        try f.net[0].maskOut(f.pids[2], in: f.cid, as: f.pids[0])
        #expect(f.stable(a2, at: 0))
        try f.net[0].maskIn(f.pids[2], in: f.cid, as: f.pids[0])
        #expect(!f.stable(a2, at: 0))
        f.net.collect(0)
        #expect(f.events(0).contains(.maskOut(f.cid, by: f.pids[0], f.pids[2])))
    }
}

/// A held message whose sender every local participant masks out is discarded at once (traced
/// `masked`); its gap is no longer asked for.
@Suite struct MaskedHeldMessageTests {
    @Test func heldMessageOfAMaskedSenderIsDiscarded() throws {
        let f = Fixture(3)
        f.send(0)
        f.net.deliverAll()
        for i in 1...2 { f.receiveAll(i) }
        let c1 = f.send(2)
        f.lose(c1, to: [1]); f.deliver(c1, to: [0])
        let c2 = f.send(2)
        f.deliver(c2, to: [1]); f.lose(c2, to: [0])
        #expect(f.net[1].heldCount(f.cid) == 1)
        try f.net[1].maskOut(f.pids[2], in: f.cid, as: f.pids[1])
        f.net.collect(1)
        #expect(f.net[1].heldCount(f.cid) == 0)
        #expect(f.drops(1, .masked) == 1)
        f.net.advance(by: 100_000_000)
        #expect(f.requests(1).isEmpty, "the gap of a discarded message is not asked for")
    }
}
