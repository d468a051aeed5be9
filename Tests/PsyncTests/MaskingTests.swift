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
