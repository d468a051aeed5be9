import Psync

/// Faults that happen at given virtual times, as data: partitions that heal, host crashes, and
/// targeted packet drops for building the paper's failure cases exactly (Section 3.2.3).
public struct FaultSchedule: Codable, Sendable, Equatable {
    public var partitions: [Partition]
    public var crashes: [Crash]
    public var drops: [DropRule]

    public init(partitions: [Partition] = [], crashes: [Crash] = [], drops: [DropRule] = []) {
        self.partitions = partitions
        self.crashes = crashes
        self.drops = drops
    }

    /// Whether a packet sent at `time` from `a` to `b` crosses an active partition.
    func separates(_ a: HostID, _ b: HostID, at time: UInt64) -> Bool {
        partitions.contains { p in
            time >= p.startNanoseconds && time < p.healNanoseconds && p.side.contains(a.rawValue) != p.side.contains(b.rawValue)
        }
    }
}

/// Between `start` and `heal`, the hosts in `side` cannot exchange packets with the others.
public struct Partition: Codable, Sendable, Equatable {
    public var side: [UInt32]
    public var startNanoseconds: UInt64
    public var healNanoseconds: UInt64
    public init(side: [UInt32], startNanoseconds: UInt64, healNanoseconds: UInt64) {
        self.side = side
        self.startNanoseconds = startNanoseconds
        self.healNanoseconds = healNanoseconds
    }
}

/// A host fails silently at `at` (Section 3.2.3): it handles nothing afterwards.
public struct Crash: Codable, Sendable, Equatable {
    public var host: UInt32
    public var atNanoseconds: UInt64
    public init(host: UInt32, atNanoseconds: UInt64) {
        self.host = host
        self.atNanoseconds = atNanoseconds
    }
}

/// Drops every copy of a data packet carrying `message` sent from `from` to any of `to` (nil:
/// every host). With `firstOnly`, only the first transmission on each link is dropped, so that
/// a retransmission gets through.
public struct DropRule: Codable, Sendable, Equatable {
    public var sender: Int
    public var sequence: UInt32
    public var from: UInt32?
    public var to: [UInt32]?
    public var firstOnly: Bool
    public init(message: MessageID, from: UInt32? = nil, to: [UInt32]? = nil, firstOnly: Bool = false) {
        sender = message.senderIndex
        sequence = message.sequence
        self.from = from
        self.to = to
        self.firstOnly = firstOnly
    }

    var message: MessageID { MessageID(sender: sender, sequence: sequence) }

    func matches(_ packet: Packet, from a: HostID, to b: HostID) -> Bool {
        let mid: MessageID
        switch packet {
        case .startConversation: mid = .root
        case .addNode(let an): mid = an.message
        default: return false
        }
        return mid == message && (from == nil || from == a.rawValue) && (to?.contains(b.rawValue) ?? true)
    }
}
