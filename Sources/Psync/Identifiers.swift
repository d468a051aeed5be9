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

    /// Parses what `description` prints (`p3`, `p3.1`); nil for anything else.
    public init?(label: String) {
        guard label.hasPrefix("p") else { return nil }
        let parts = label.dropFirst().split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, let h = UInt32(parts[0]) else { return nil }
        let l = parts.count == 2 ? UInt32(parts[1]) : 0
        guard let local = l, parts.count == 1 || local != 0 else { return nil }
        self.init(host: HostID(h), local: local)
    }
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
    /// Paper-style label: participant 0's third message is `a3`, participant 1's first `b1`;
    /// past `z`, `p26:1`, `p27:4`, ... (the colon keeps the label unambiguous).
    public var description: String {
        senderIndex < 26 ? "\(MessageID.senderLabel(senderIndex))\(sequence)" : "p\(sender):\(sequence)"
    }
    public static func senderLabel(_ index: ParticipantIndex) -> String {
        index < 26 ? String(UnicodeScalar(UInt8(97 + index))) : "p\(index)"
    }

    /// Parses what `description` prints (`a1`, `p26:3`); nil for anything else. (Trace readers
    /// parse millions of these: no intermediate allocation.)
    public init?(label: String) {
        var sender: UInt64 = 0, sequence: UInt64 = 0
        var digits = 0, senderDigits = 0
        var form = 0  // 1: letter form, 2: "pN:" form before the colon, 3: after the colon
        for (i, b) in label.utf8.enumerated() {
            switch (i, b) {
            case (0, UInt8(ascii: "a")...UInt8(ascii: "z")):
                sender = UInt64(b - UInt8(ascii: "a"))
                form = b == UInt8(ascii: "p") && label.utf8.contains(UInt8(ascii: ":")) ? 2 : 1
            case (_, UInt8(ascii: "0")...UInt8(ascii: "9")) where i > 0:
                let d = UInt64(b - UInt8(ascii: "0"))
                if form == 2 { sender = (senderDigits == 0 ? 0 : sender) * 10 + d; senderDigits += 1 } else { sequence = sequence * 10 + d; digits += 1 }
                guard sender <= UInt64(UInt32.max), sequence <= UInt64(UInt32.max) else { return nil }
            case (_, UInt8(ascii: ":")) where form == 2 && senderDigits > 0:
                form = 3
            default:
                return nil
            }
        }
        guard digits > 0, sequence >= 1, form == 1 || (form == 3 && sender >= 26) else { return nil }
        self.init(sender: Int(sender), sequence: UInt32(sequence))
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
