import Testing
@testable import Psync
import PsyncSimulator

/// Section 3.2.3: host h fails right after sending m in the context of m'. Hosts a, b, c (0-2)
/// keep running; d (3) is h. Each case runs under both recovery policies. Under `.paper` a held
/// message asks its source after 10 ms, broadcasts after 40 ms more, and is discarded after
/// 40 ms more; under `.gaps` its gap asks the source twice, another member once and everyone
/// five times, backing off from 40 ms to 320 ms, before the held message is discarded.
@Suite struct HostFailureTests {
    /// Long enough for every request and digest of either policy to be spent.
    static let patience: UInt64 = 10_000_000_000

    static func start(_ policy: RecoveryPolicy) -> Fixture {
        let f = Fixture(4, config: HostConfig(recovery: policy))
        f.send(0)
        f.net.deliverAll()
        for i in 1..<4 { f.receiveAll(i) }
        return f
    }

    static let running = [0, 1, 2]

    /// Case 1: no other host receives m; it appears in no running image, and the others go on.
    @Test(arguments: RecoveryPolicy.allCases) func case1NobodyReceivesM(policy: RecoveryPolicy) {
        let f = Self.start(policy)
        let m = f.send(3, "m")
        f.lose(m)
        f.net.crash(3)
        f.net.advance(by: Self.patience)
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
    @Test(arguments: RecoveryPolicy.allCases) func case2aNobodyHasMPrime(policy: RecoveryPolicy) {
        let f = Self.start(policy)
        let mPrime = f.send(3, "m'")
        f.lose(mPrime)
        let m = f.send(3, "m")
        f.deliver(m)
        f.net.crash(3)
        for i in Self.running { #expect(f.net[i].heldCount(f.cid) == 1) }
        f.net.advance(by: Self.patience)
        for i in Self.running {
            #expect(f.net.messages(i, f.cid).isDisjoint(with: [m, mPrime]))
            #expect(f.net[i].heldCount(f.cid) == 0)
            #expect(f.drops(i, .discardedAfterFailedRequest) == 1)
            let reasons = f.requests(i).map(\.reason)
            switch policy {
            case .paper: #expect(reasons == ["source", "broadcast"], "host \(i) asks d, then everyone")
            case .gaps:
                #expect(reasons == ["source", "source", "member", "broadcast", "broadcast", "broadcast", "broadcast", "broadcast"],
                        "host \(i) asks d twice, another member, then everyone")
            }
        }
    }

    /// Case 2b: every host has m' and receives m: m is incorporated everywhere.
    @Test(arguments: RecoveryPolicy.allCases) func case2bEverybodyHasMPrime(policy: RecoveryPolicy) {
        let f = Self.start(policy)
        let mPrime = f.send(3, "m'")
        f.deliver(mPrime)
        let m = f.send(3, "m")
        f.deliver(m)
        f.net.crash(3)
        f.net.advance(by: Self.patience)
        for i in Self.running {
            #expect(f.net.messages(i, f.cid).isSuperset(of: [m, mPrime]))
            #expect(f.receiveAll(i) == [mPrime, m])
        }
    }

    /// Case 2c: only a has m'; everyone receives m. The broadcast request retrieves m' from a.
    @Test(arguments: RecoveryPolicy.allCases) func case2cSomeHostsHaveMPrime(policy: RecoveryPolicy) {
        let f = Self.start(policy)
        let mPrime = f.send(3, "m'")
        f.deliver(mPrime, to: [0])
        f.lose(mPrime)
        let m = f.send(3, "m")
        f.deliver(m)
        f.net.crash(3)
        f.net.advance(by: Self.patience)
        for i in Self.running {
            #expect(f.net.messages(i, f.cid).isSuperset(of: [m, mPrime]), "host \(i)")
            #expect(f.receiveAll(i) == [mPrime, m])
        }
        #expect(f.drops(1, .discardedAfterFailedRequest) == 0)
    }

    /// Case 3: only a receives m. When a sends m'' in the context of m, b and c retrieve m from
    /// a, the host m'' came from (no broadcast needed).
    @Test(arguments: RecoveryPolicy.allCases) func case3SomeHostsReceiveM(policy: RecoveryPolicy) {
        let f = Self.start(policy)
        let m = f.send(3, "m")
        f.deliver(m, to: [0])
        f.lose(m)
        f.net.crash(3)
        f.receiveAll(0)
        let m2 = f.send(0, "m''")
        f.deliver(m2)
        for i in [1, 2] { #expect(f.net[i].heldCount(f.cid) == 1) }
        f.net.advance(by: Self.patience)
        for i in Self.running {
            #expect(f.net.messages(i, f.cid).isSuperset(of: [m, m2]), "host \(i)")
        }
        for i in [1, 2] {
            #expect(f.receiveAll(i) == [m, m2])
            #expect(f.requests(i).map(\.to) == [[HostID(0)]])
        }
    }
}
