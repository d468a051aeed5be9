@testable import Psync
import PsyncSimulator

/// A conversation among `n` participants, participant i alone on host i, over a network the
/// test drives by hand. Participant 0 (`a`) opens it; the others wait in `passiveOpen`.
final class Fixture {
    let net: ManualNetwork
    let pids: [ParticipantID]
    let cid = ConversationID(42)

    init(_ n: Int, config: HostConfig = HostConfig()) {
        net = ManualNetwork(hostCount: n, config: config)
        pids = (0..<n).map { ParticipantID(host: HostID(UInt32($0))) }
        try! net[0].activeOpen(pids, as: pids[0], conversation: cid)
        for i in 1..<n { _ = net[i].passiveOpen(pids[i], now: net.now) }
        net.collectAll()
    }

    @discardableResult
    func send(_ i: Int, _ text: String = "") -> MessageID {
        let m = try! net[i].send(Array(text.utf8), in: cid, as: pids[i], now: net.now)
        net.collect(i)
        return m
    }

    @discardableResult
    func receiveAll(_ i: Int) -> [MessageID] {
        var out: [MessageID] = []
        while let (m, _) = try! net[i].receive(cid, as: pids[i]) { out.append(m) }
        net.collect(i)
        return out
    }

    /// Delivers the in-flight data packets carrying `m` to the hosts in `to` (default: all).
    func deliver(_ m: MessageID, to hosts: [Int]? = nil) {
        net.deliver { $0.packet.message == m && (hosts?.contains(Int($0.to.rawValue)) ?? true) }
    }

    /// Loses the in-flight data packets carrying `m` to the hosts in `to` (default: all).
    func lose(_ m: MessageID, to hosts: [Int]? = nil) {
        net.discard { $0.packet.message == m && (hosts?.contains(Int($0.to.rawValue)) ?? true) }
    }

    func edges(_ i: Int) -> Set<Edge> {
        Set((net[i].image(cid) ?? []).flatMap { m, preds in preds.map { Edge($0, m) } })
    }

    func drops(_ i: Int, _ reason: DropReason) -> Int { net[i].counters.drops[reason] ?? 0 }

    /// Engine events host i reported, in order.
    func events(_ i: Int) -> [EngineEvent] {
        net.log.compactMap { h, e in
            if h == HostID(UInt32(i)), case .event(let ev) = e { return ev }
            return nil
        }
    }

    func stable(_ m: MessageID, at i: Int) -> Bool { try! net[i].stable(m, in: cid, as: pids[i]) }

    /// The retransmission requests host i sent, of either policy, in order: where each went
    /// and why (`source`, `member`, `broadcast`, `orphan`, ...; `.paper` requests say `source`
    /// or `broadcast`). Digests are left out.
    func requests(_ i: Int) -> [(to: [HostID], reason: String)] {
        events(i).compactMap { e in
            switch e {
            case .retransmitRequested(_, let to, let broadcast): (to, broadcast ? "broadcast" : "source")
            case .frontierRequested(let fr, let to, let reason) where !fr.isDigest: (to, reason.rawValue)
            default: nil
            }
        }
    }
}

struct Edge: Hashable, CustomStringConvertible {
    var from: MessageID
    var to: MessageID
    init(_ from: MessageID, _ to: MessageID) {
        self.from = from
        self.to = to
    }
    var description: String { "\(from)->\(to)" }
}

/// Paper-style ids: `a1` is participant 0's first message.
func mid(_ label: String) -> MessageID {
    let sender = Int(label.unicodeScalars.first!.value) - 97
    return MessageID(sender: sender, sequence: UInt32(label.dropFirst())!)
}
