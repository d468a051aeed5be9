import Testing
@testable import Psync
import PsyncSimulator

/// Section 2, Figure 2: three participants a, b, c; "messages a1, b1 and c1 are the only stable
/// messages. Also, participant a has sent two unstable messages: a2 and a3."
/// The graph built here: a1 -> b1 -> c1 -> {a2, b2}, a2 -> a3.
@Suite struct Figure2Tests {
    static func build() -> Fixture {
        let f = Fixture(3)
        f.send(0)                         // a1
        f.net.deliverAll()
        f.receiveAll(1); f.receiveAll(2)
        let b1 = f.send(1)                // b1 after a1
        f.deliver(b1)
        f.receiveAll(2); f.receiveAll(0)
        let c1 = f.send(2)                // c1 after b1
        f.deliver(c1)
        f.receiveAll(0); f.receiveAll(1)
        f.send(0)                         // a2 after c1
        f.send(1)                         // b2 after c1, without a2
        f.send(0)                         // a3 after a2, without b2
        return f
    }

    @Test func onlyA1B1C1AreStable() throws {
        let f = Self.build()
        // Before anything else arrives, a cannot know c1 is stable (it lacks b2).
        #expect(!f.stable(mid("c1"), at: 0))
        f.net.deliverAll()
        for i in 0..<3 { f.receiveAll(i) }
        for i in 0..<3 {
            for m in ["a1", "b1", "c1"] { #expect(f.stable(mid(m), at: i), "\(m) at \(i)") }
            for m in ["a2", "a3", "b2"] { #expect(!f.stable(mid(m), at: i), "\(m) at \(i)") }
        }
        let a = f.net[0]
        #expect(try a.nStable(mid("c1"), in: f.cid, as: f.pids[0]) == 3)
        #expect(try a.nStable(mid("a2"), in: f.cid, as: f.pids[0]) == 1)
        #expect(try a.nStable(mid("b2"), in: f.cid, as: f.pids[0]) == 1)
        #expect(f.edges(1).contains(Edge(mid("c1"), mid("a2"))))
        #expect(f.edges(1).contains(Edge(mid("a2"), mid("a3"))))
        #expect(!f.edges(1).contains(Edge(mid("b2"), mid("a3"))))
    }

    /// Section 3.2.2: "should a participant apply resend to a stable message, Psync does nothing".
    @Test func resendingAStableMessageDoesNothing() throws {
        let f = Self.build()
        f.net.deliverAll()
        f.receiveAll(0)
        let before = f.net.inFlight.count
        #expect(try !f.net[0].resend(mid("a1"), in: f.cid, as: f.pids[0], now: f.net.now))
        f.net.collect(0)
        #expect(f.net.inFlight.count == before)
        #expect(try f.net[0].resend(mid("a3"), in: f.cid, as: f.pids[0], now: f.net.now))
        f.net.collect(0)
        #expect(f.net.inFlight.count == before + 2)
    }
}
