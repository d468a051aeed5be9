import Psync
import PsyncTrace

/// A network driven by hand, packet by packet: for scenario tests that build the paper's
/// figures and failure cases exactly (which packet reaches which host, when a host crashes).
/// Packets wait in `inFlight` until the caller delivers or discards them; timers fire when the
/// caller advances time. Like `Simulator`, it only interprets the engine's effects.
public final class ManualNetwork {
    public struct InFlight: Sendable, CustomStringConvertible {
        public var from: HostID
        public var to: HostID
        public var packet: Packet
        public var description: String { "\(from)->\(to) \(packet.summary)" }
    }

    public private(set) var hosts: [Host]
    public private(set) var inFlight: [InFlight] = []
    public private(set) var now = Instant.zero
    public private(set) var crashed: Set<HostID> = []
    /// Every effect in the order produced, with its host (transmissions and timers included).
    public private(set) var log: [(HostID, HostEffect)] = []
    /// Armed timers: deadline, and the order they were set in (to break ties deterministically).
    private var timers: [HostID: [TimerID: (Instant, Int)]] = [:]
    private var timersSet = 0
    /// Where engine events and packets go, with the network's time (for traces of scenarios).
    public var trace: TraceSink?

    public init(hostCount: Int, config: HostConfig = HostConfig(), trace: TraceSink? = nil) {
        hosts = (0..<hostCount).map { Host(id: HostID(UInt32($0)), config: config) }
        self.trace = trace
    }

    public subscript(_ i: Int) -> Host { hosts[i] }

    /// Takes the effects a host produced (after calling one of its operations).
    public func collect(_ i: Int) {
        let host = hosts[i]
        for effect in host.takeEffects() { record(effect, host: host.id) }
    }

    /// Collects every host's pending effects.
    public func collectAll() { for i in hosts.indices { collect(i) } }

    private func record(_ effect: HostEffect, host: HostID) {
        log.append((host, effect))
        switch effect {
        case .event(let e):
            trace?.record(TraceEvent(time: now.nanoseconds, host: host, TraceEvent.Kind(e)))
        case .transmit(let packet, let destinations):
            for to in destinations {
                inFlight.append(InFlight(from: host, to: to, packet: packet))
                trace?.record(TraceEvent(time: now.nanoseconds, host: host,
                                         .packetOut(PacketRecord(packet, peer: to, bytes: WireCodec.encode(packet).count))))
            }
        case .setTimer(let id, let deadline):
            timers[host, default: [:]][id] = (deadline, timersSet)
            timersSet += 1
        default:
            break
        }
    }

    /// Delivers (in order) and removes the in-flight packets matching `predicate`; packets the
    /// deliveries produce are queued, not delivered. Returns how many were delivered.
    @discardableResult
    public func deliver(where predicate: (InFlight) -> Bool) -> Int {
        let chosen = inFlight.filter(predicate)
        inFlight.removeAll(where: predicate)
        for p in chosen where !crashed.contains(p.to) {
            trace?.record(TraceEvent(time: now.nanoseconds, host: p.to,
                                     .packetIn(PacketRecord(p.packet, peer: p.from, bytes: WireCodec.encode(p.packet).count))))
            for e in hosts[Int(p.to.rawValue)].handle(.packet(p.packet, from: p.from), now: now) { record(e, host: p.to) }
        }
        return chosen.count
    }

    /// Removes the in-flight packets matching `predicate`: they are lost.
    @discardableResult
    public func discard(where predicate: (InFlight) -> Bool) -> Int {
        let n = inFlight.count
        inFlight.removeAll(where: predicate)
        return n - inFlight.count
    }

    /// Delivers everything in flight, including what the deliveries produce, until nothing is
    /// left (at most `rounds` rounds).
    public func deliverAll(rounds: Int = 1000) {
        for _ in 0..<rounds where !inFlight.isEmpty { deliver { _ in true } }
    }

    /// The host stops: it handles nothing more, and packets to it vanish (Section 3.2.3).
    public func crash(_ i: Int) {
        crashed.insert(hosts[i].id)
        inFlight.removeAll { $0.to == hosts[i].id || $0.from == hosts[i].id }
    }

    /// Host `i` comes back with its volatile state lost (Section 5): a new engine with the same
    /// identity and configuration (`storage`: its non-volatile log, if any), no timers. Its
    /// participants then call `restart`.
    public func reboot(_ i: Int, config: HostConfig? = nil, seed: UInt64? = nil, storage: (any StableStorage)? = nil) {
        let old = hosts[i]
        hosts[i] = Host(id: old.id, config: config ?? old.config, seed: seed, storage: storage)
        crashed.remove(old.id)
        timers[old.id] = nil
    }

    /// Advances time by `nanoseconds`, firing due timers in deadline order and delivering all
    /// packets after each firing.
    public func advance(by nanoseconds: UInt64) {
        let end = now.adding(nanoseconds: nanoseconds)
        while let (host, id, deadline) = nextTimer(before: end) {
            timers[host]?[id] = nil
            now = max(now, deadline)
            guard !crashed.contains(host) else { continue }
            for e in hosts[Int(host.rawValue)].handle(.timer(id), now: now) { record(e, host: host) }
            deliverAll()
        }
        now = end
    }

    private func nextTimer(before end: Instant) -> (HostID, TimerID, Instant)? {
        var best: (HostID, TimerID, Instant, Int)?
        for (host, table) in timers {
            for (id, (deadline, order)) in table where deadline <= end {
                if let b = best, (b.2, b.3) < (deadline, order) { continue }
                best = (host, id, deadline, order)
            }
        }
        return best.map { ($0.0, $0.1, $0.2) }
    }

    /// The messages in host `i`'s image of `cid`.
    public func messages(_ i: Int, _ cid: ConversationID) -> Set<MessageID> {
        Set(hosts[i].image(cid)?.map(\.0) ?? [])
    }
}

extension Packet {
    /// The packet in a few words, for scenario tests and counterexamples ("AN b2 (resent)").
    public var summary: String {
        let what: String = switch self {
        case .startConversation: "SC a1"
        case .addNode(let an): "AN \(an.message)"
        case .retransmitRequest(let rr): "RR \(rr.message.map(\.description) ?? "-") leaves \(rr.leaves)"
        case .frontierRequest(let fr): "FR frontier \(fr.frontier) wanted \(fr.wanted)\(fr.isReply ? " reply" : "")"
        case .restart: "RS"
        }
        return what + (isResent ? " (resent)" : "")
    }

    public var isResent: Bool {
        switch self {
        case .startConversation(let sc): sc.resent
        case .addNode(let an): an.resent
        default: false
        }
    }

    /// The message a data packet carries.
    public var message: MessageID? {
        switch self {
        case .startConversation: .root
        case .addNode(let an): an.message
        default: nil
        }
    }
}
