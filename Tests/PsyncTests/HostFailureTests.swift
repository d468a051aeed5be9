import Testing
@testable import Psync
import PsyncSimulator

/// Section 3.2.3: host h fails right after sending m in the context of m'. Hosts a, b, c (0-2)
/// keep running; d (3) is h. Timers: a held message asks its source after 10 ms, then
/// broadcasts after 40 ms more, then is discarded after 40 ms more.
@Suite struct HostFailureTests {
    static func start() -> Fixture {
        let f = Fixture(4)
        f.send(0)
        f.net.deliverAll()
        for i in 1..<4 { f.receiveAll(i) }
        return f
    }

    static let running = [0, 1, 2]

    /// Case 1: no other host receives m; it appears in no running image, and the others go on.
    @Test func case1NobodyReceivesM() {
        let f = Self.start()
        let m = f.send(3, "m")
        f.lose(m)
        f.net.crash(3)
        f.net.advance(by: 1_000_000_000)
        for i in Self.running { #expect(!f.net.messages(i, f.cid).contains(m)) }
        // "All running processes are able to continue exchanging messages": they do, and once
        // each masks out d, their messages become stable again (Section 3.2.4).
        let b1 = f.send(1, "b1")
        f.net.deliverAll()
        for i in Self.running { f.receiveAll(i) }
        f.send(0); f.send(2)
        f.net.deliverAll()
        for i in Self.running { f.receiveAll(i) }
        #expect(!f.stable(b1, at: 0))
        try! f.net[0].maskOut(f.pids[3], in: f.cid, as: f.pids[0])
        #expect(f.stable(b1, at: 0))
    }

    /// Case 2a: every host receives m, none has m' (sent by h, lost): the broadcast request
    /// fails and m is discarded everywhere.
    @Test func case2aNobodyHasMPrime() {
        let f = Self.start()
        let mPrime = f.send(3, "m'")
        f.lose(mPrime)
        let m = f.send(3, "m")
        f.deliver(m)
        f.net.crash(3)
        for i in Self.running { #expect(f.net[i].heldCount(f.cid) == 1) }
        f.net.advance(by: 1_000_000_000)
        for i in Self.running {
            #expect(f.net.messages(i, f.cid).isDisjoint(with: [m, mPrime]))
            #expect(f.net[i].heldCount(f.cid) == 0)
            #expect(f.drops(i, .discardedAfterFailedRequest) == 1)
            let requests = f.events(i).compactMap { e -> Bool? in
                if case .retransmitRequested(_, _, let broadcast) = e { return broadcast }
                return nil
            }
            #expect(requests == [false, true], "host \(i) asks d, then everyone")
        }
    }

    /// Case 2b: every host has m' and receives m: m is incorporated everywhere.
    @Test func case2bEverybodyHasMPrime() {
        let f = Self.start()
        let mPrime = f.send(3, "m'")
        f.deliver(mPrime)
        let m = f.send(3, "m")
        f.deliver(m)
        f.net.crash(3)
        f.net.advance(by: 1_000_000_000)
        for i in Self.running {
            #expect(f.net.messages(i, f.cid).isSuperset(of: [m, mPrime]))
            #expect(f.receiveAll(i) == [mPrime, m])
        }
    }

    /// Case 2c: only a has m'; everyone receives m. The broadcast request retrieves m' from a.
    @Test func case2cSomeHostsHaveMPrime() {
        let f = Self.start()
        let mPrime = f.send(3, "m'")
        f.deliver(mPrime, to: [0])
        f.lose(mPrime)
        let m = f.send(3, "m")
        f.deliver(m)
        f.net.crash(3)
        f.net.advance(by: 1_000_000_000)
        for i in Self.running {
            #expect(f.net.messages(i, f.cid).isSuperset(of: [m, mPrime]), "host \(i)")
            #expect(f.receiveAll(i) == [mPrime, m])
        }
        #expect(f.drops(1, .discardedAfterFailedRequest) == 0)
    }

    /// Case 3: only a receives m. When a sends m'' in the context of m, b and c retrieve m from
    /// a, the host m'' came from (no broadcast needed).
    @Test func case3SomeHostsReceiveM() {
        let f = Self.start()
        let m = f.send(3, "m")
        f.deliver(m, to: [0])
        f.lose(m)
        f.net.crash(3)
        f.receiveAll(0)
        let m2 = f.send(0, "m''")
        f.deliver(m2)
        for i in [1, 2] { #expect(f.net[i].heldCount(f.cid) == 1) }
        f.net.advance(by: 1_000_000_000)
        for i in Self.running {
            #expect(f.net.messages(i, f.cid).isSuperset(of: [m, m2]), "host \(i)")
        }
        for i in [1, 2] {
            #expect(f.receiveAll(i) == [m, m2])
            let requests = f.events(i).compactMap { e -> [HostID]? in
                if case .retransmitRequested(_, let to, _) = e { return to }
                return nil
            }
            #expect(requests == [[HostID(0)]])
        }
    }
}
