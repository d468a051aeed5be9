import Psync

/// Faults that happen at given virtual times, as data: partitions that heal, host crashes, and
/// targeted packet drops for building the paper's failure cases exactly (Section 3.2.3).
public struct FaultSchedule: Codable, Sendable, Equatable {
    public var partitions: [Partition]
    public var crashes: [Crash]
    public var drops: [DropRule]
    /// Crashed hosts that come back (Section 5), with their volatile state lost.
    public var restarts: [HostRestart]
    /// An adversary's forged, altered and replayed packets (authenticated conversations).
    public var attacks: [Attack]

    public init(partitions: [Partition] = [], crashes: [Crash] = [], drops: [DropRule] = [], restarts: [HostRestart] = [],
                attacks: [Attack] = []) {
        self.partitions = partitions
        self.crashes = crashes
        self.drops = drops
        self.restarts = restarts
        self.attacks = attacks
    }

    enum CodingKeys: String, CodingKey { case partitions, crashes, drops, restarts, attacks }

    /// Schedules written before restarts or attacks existed have none.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        partitions = try c.decode([Partition].self, forKey: .partitions)
        crashes = try c.decode([Crash].self, forKey: .crashes)
        drops = try c.decode([DropRule].self, forKey: .drops)
        restarts = try c.decodeIfPresent([HostRestart].self, forKey: .restarts) ?? []
        attacks = try c.decodeIfPresent([Attack].self, forKey: .attacks) ?? []
    }

    /// Restarts and attacks are written only when there are some: runs without them keep the
    /// headers they had.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(partitions, forKey: .partitions)
        try c.encode(crashes, forKey: .crashes)
        try c.encode(drops, forKey: .drops)
        if !restarts.isEmpty { try c.encode(restarts, forKey: .restarts) }
        if !attacks.isEmpty { try c.encode(attacks, forKey: .attacks) }
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

/// A crashed host comes back at `at` with its volatile state lost (Section 5): its participant
/// calls `restart`, by re-execution from its initial state (5.2) or from its latest checkpoint
/// (5.1, taken by the scripted application after each of its data messages). With `log`, the
/// host's non-volatile log (what it collected) survives the crash and comes back first.
public struct HostRestart: Codable, Sendable, Equatable {
    public enum Mode: String, Codable, Sendable { case reexecute, checkpoint }
    public var host: UInt32
    public var atNanoseconds: UInt64
    public var mode: Mode
    public var log: Bool

    public init(host: UInt32, atNanoseconds: UInt64, mode: Mode = .reexecute, log: Bool = false) {
        self.host = host
        self.atNanoseconds = atNanoseconds
        self.mode = mode
        self.log = log
    }

    /// Parses `2@300ms`, `2@300ms:checkpoint`, `2@300ms:reexecute:log`.
    public init(parsing text: String) throws(ArgumentSyntaxError) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        let crash = try Crash(parsing: parts[0])
        var mode = Mode.reexecute, log = false
        for option in parts.dropFirst() {
            if let m = Mode(rawValue: option) { mode = m } else if option == "log" { log = true } else {
                throw ArgumentSyntaxError(text, "unknown option '\(option)' (reexecute, checkpoint, log)")
            }
        }
        self.init(host: crash.host, atNanoseconds: crash.atNanoseconds, mode: mode, log: log)
    }

    /// The command-line spelling (`--restart`).
    public var argument: String {
        "\(host)@\(formatDuration(atNanoseconds)):\(mode.rawValue)" + (log ? ":log" : "")
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
