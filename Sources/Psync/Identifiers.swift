/// Identifiers of the three basic objects of Section 3: conversations (cid), messages (mid) and
/// participants (pid), plus the host that runs an engine.

/// A host: one engine instance. It keeps one image per conversation (Section 3.1.1).
public struct HostID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt32
    public init(_ rawValue: UInt32) { self.rawValue = rawValue }
    public static func < (a: HostID, b: HostID) -> Bool { a.rawValue < b.rawValue }
    public var description: String { "h\(rawValue)" }
}

/// A participant. Section 3 assumes "each pid can be divided into a host part and a local part",
/// so any host can tell where a participant lives from its pid alone.
public struct ParticipantID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var host: HostID
    public var local: UInt32
    public init(host: HostID, local: UInt32 = 0) {
        self.host = host
        self.local = local
    }
    public static func < (a: ParticipantID, b: ParticipantID) -> Bool {
        (a.host.rawValue, a.local) < (b.host.rawValue, b.local)
    }
    public var description: String { local == 0 ? "p\(host.rawValue)" : "p\(host.rawValue).\(local)" }
}

/// A conversation: "a network-wide unique cid" (Section 3). Choosing it is the opener's job;
/// the simulator derives it from the seed so that runs are reproducible.
public struct ConversationID: Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public var description: String { "c\(rawValue)" }
}

/// The position of a participant in the conversation's participant list, as carried by the SC
/// packet (Figure 3). Position 0 is the participant that actively opened the conversation.
public typealias ParticipantIndex = Int

/// A message id: "conversation-wide unique" (Section 3). We make it the sender's position in the
/// participant list plus the sender's own sequence number (1, 2, ...), which buys three things:
/// ids are deterministic (re-execution, Section 5.2, produces the same ids), they print like the
/// paper's Figure 2 (`a1`, `b2`), and a host finds a node from its id by two array indexings, since
/// a sender's messages always enter an image in sequence order (each is in the context of the
/// previous one). The root message, carried by the SC packet, is `(0, 1)`.
public struct MessageID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var sender: UInt32
    public var sequence: UInt32
    public init(sender: ParticipantIndex, sequence: UInt32) {
        precondition(sender >= 0 && sender <= Int(UInt32.max), "sender index out of range")
        self.sender = UInt32(sender)
        self.sequence = sequence
    }
    public static let root = MessageID(sender: 0, sequence: 1)
    public var senderIndex: ParticipantIndex { Int(sender) }
    public static func < (a: MessageID, b: MessageID) -> Bool { (a.sender, a.sequence) < (b.sender, b.sequence) }
    /// Paper-style label: participant 0 is `a`, 1 is `b`, ...; past `z`, `p26`, `p27`, ...
    public var description: String { "\(MessageID.senderLabel(senderIndex))\(sequence)" }
    public static func senderLabel(_ index: ParticipantIndex) -> String {
        index < 26 ? String(UnicodeScalar(UInt8(97 + index))) : "p\(index)"
    }
}

/// Virtual or monotonic time in nanoseconds. The engine never reads a clock: every input carries
/// the current instant (DESIGN.md, sans-I/O).
public struct Instant: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var nanoseconds: UInt64
    public init(nanoseconds: UInt64) { self.nanoseconds = nanoseconds }
    public static let zero = Instant(nanoseconds: 0)
    public static func < (a: Instant, b: Instant) -> Bool { a.nanoseconds < b.nanoseconds }
    public func adding(nanoseconds delta: UInt64) -> Instant {
        Instant(nanoseconds: nanoseconds &+ delta)
    }
    public var description: String { "\(nanoseconds)ns" }
}
