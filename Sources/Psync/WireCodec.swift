/// The binary wire format of Psync packets: compact, versioned, with explicit bounds.
///
/// Layout (all integers are unsigned LEB128 varints unless said otherwise):
///
///     magic "PS" (2 bytes) | version (1 byte, = 1) | type (1 byte) | flags (1 byte) | cid | body
///
///     type 1 SC: count, count x pid, payload length, payload            (Figure 3)
///     type 2 AN: mid, sender pid, count, count x mid, payload length, payload  (Figure 4)
///     type 3 RR: [mid if flag 0x02], count, count x mid                  (Figure 5)
///     type 4 RS: pid, count, count x mid                                 (Section 5.1, reserved)
///     type 5 FR: count, count x mid (frontier), count, count x mid (wanted), count, count x mid (held)
///     pid = host, local; mid = sender index, sequence
///     flags: 0x01 resent (SC, AN), 0x04 answer cut (SC, AN), 0x02 RR names a message,
///     0x08 FR is a digest reply; other bits must be zero.
///
/// Decoding never traps: malformed, truncated, oversized or trailing input is a `WireError`.
public enum WireCodec {
    public static let magic: (UInt8, UInt8) = (0x50, 0x53)  // "PS"
    public static let version: UInt8 = 1

    /// Bounds that the decoder enforces and the encoder checks as preconditions.
    public struct Limits: Sendable, Hashable, Codable {
        public var maxParticipants: Int
        public var maxPayloadBytes: Int
        public init(maxParticipants: Int = 1024, maxPayloadBytes: Int = 1 << 20) {
            self.maxParticipants = maxParticipants
            self.maxPayloadBytes = maxPayloadBytes
        }
    }

    enum PacketType: UInt8 {
        case startConversation = 1, addNode = 2, retransmitRequest = 3, restart = 4, frontierRequest = 5
    }
    static let flagResent: UInt8 = 0x01
    static let flagHasMessage: UInt8 = 0x02
    static let flagAnswerCut: UInt8 = 0x04
    static let flagReply: UInt8 = 0x08

    static func dataFlags(resent: Bool, answerCut: Bool) -> UInt8 {
        (resent ? flagResent : 0) | (answerCut ? flagAnswerCut : 0)
    }

    // MARK: Encoding

    public static func encode(_ packet: Packet, limits: Limits = Limits()) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        out.append(magic.0)
        out.append(magic.1)
        out.append(version)
        switch packet {
        case .startConversation(let sc):
            precondition(sc.participants.count <= limits.maxParticipants, "too many participants")
            precondition(sc.payload.count <= limits.maxPayloadBytes, "payload too large")
            out.append(PacketType.startConversation.rawValue)
            out.append(dataFlags(resent: sc.resent, answerCut: sc.answerCut))
            putVarint(sc.conversation.rawValue, &out)
            putVarint(UInt64(sc.participants.count), &out)
            for p in sc.participants { putParticipant(p, &out) }
            putBytes(sc.payload, &out)
        case .addNode(let an):
            precondition(an.predecessors.count <= limits.maxParticipants, "too many predecessors")
            precondition(an.payload.count <= limits.maxPayloadBytes, "payload too large")
            out.append(PacketType.addNode.rawValue)
            out.append(dataFlags(resent: an.resent, answerCut: an.answerCut))
            putVarint(an.conversation.rawValue, &out)
            putMessage(an.message, &out)
            putParticipant(an.sender, &out)
            putMessages(an.predecessors, &out)
            putBytes(an.payload, &out)
        case .retransmitRequest(let rr):
            precondition(rr.leaves.count <= limits.maxParticipants, "too many leaves")
            out.append(PacketType.retransmitRequest.rawValue)
            out.append(rr.message == nil ? 0 : flagHasMessage)
            putVarint(rr.conversation.rawValue, &out)
            if let m = rr.message { putMessage(m, &out) }
            putMessages(rr.leaves, &out)
        case .frontierRequest(let fr):
            precondition(fr.frontier.count <= limits.maxParticipants, "frontier longer than the participant limit")
            precondition(fr.wanted.count <= limits.maxParticipants, "more wanted messages than the participant limit")
            precondition(fr.held.count <= limits.maxParticipants, "more held messages than the participant limit")
            out.append(PacketType.frontierRequest.rawValue)
            out.append(fr.isReply ? flagReply : 0)
            putVarint(fr.conversation.rawValue, &out)
            putMessages(fr.frontier, &out)
            putMessages(fr.wanted, &out)
            putMessages(fr.held, &out)
        case .restart(let rs):
            precondition(rs.leaves.count <= limits.maxParticipants, "too many leaves")
            out.append(PacketType.restart.rawValue)
            out.append(0)
            putVarint(rs.conversation.rawValue, &out)
            putParticipant(rs.participant, &out)
            putMessages(rs.leaves, &out)
        }
        return out
    }

    static func putVarint(_ value: UInt64, _ out: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }
    static func putParticipant(_ p: ParticipantID, _ out: inout [UInt8]) {
        putVarint(UInt64(p.host.rawValue), &out)
        putVarint(UInt64(p.local), &out)
    }
    static func putMessage(_ m: MessageID, _ out: inout [UInt8]) {
        putVarint(UInt64(m.sender), &out)
        putVarint(UInt64(m.sequence), &out)
    }
    static func putMessages(_ ms: [MessageID], _ out: inout [UInt8]) {
        putVarint(UInt64(ms.count), &out)
        for m in ms { putMessage(m, &out) }
    }
    static func putBytes(_ bytes: [UInt8], _ out: inout [UInt8]) {
        putVarint(UInt64(bytes.count), &out)
        out.append(contentsOf: bytes)
    }

    // MARK: Decoding

    /// The conversation a packet belongs to, read from its header only (magic, version, cid):
    /// what a shell needs to pick the conversation's key before it trusts the rest
    /// (authenticated conversations, `PsyncAuth`).
    public static func conversation(of bytes: [UInt8]) throws(WireError) -> ConversationID {
        guard bytes.count >= 5 else { throw .truncated(offset: bytes.count) }
        guard bytes[0] == magic.0, bytes[1] == magic.1 else { throw .badMagic }
        guard bytes[2] == version else { throw .unsupportedVersion(bytes[2]) }
        var r = Reader(bytes: bytes)
        r.offset = 5
        return ConversationID(try r.varint())
    }

    public static func decode(_ bytes: [UInt8], limits: Limits = Limits()) throws(WireError) -> Packet {
        var r = Reader(bytes: bytes)
        guard bytes.count >= 5 else { throw .truncated(offset: bytes.count) }
        guard bytes[0] == magic.0, bytes[1] == magic.1 else { throw .badMagic }
        guard bytes[2] == version else { throw .unsupportedVersion(bytes[2]) }
        r.offset = 5
        guard let type = PacketType(rawValue: bytes[3]) else { throw .unknownType(bytes[3]) }
        let flags = bytes[4]
        let allowed: UInt8 = switch type {
        case .startConversation, .addNode: flagResent | flagAnswerCut
        case .retransmitRequest: flagHasMessage
        case .frontierRequest: flagReply
        case .restart: 0
        }
        guard flags & ~allowed == 0 else { throw .badFlags(flags) }
        let cid = ConversationID(try r.varint())
        let packet: Packet
        switch type {
        case .startConversation:
            let count = try r.count(limit: limits.maxParticipants, minimumBytesEach: 2)
            guard count >= 1 else { throw .invalid("SC with no participants", offset: r.offset) }
            var participants: [ParticipantID] = []
            participants.reserveCapacity(count)
            for _ in 0..<count { participants.append(try r.participant()) }
            guard Set(participants).count == participants.count else {
                throw .invalid("SC lists a participant twice", offset: r.offset)
            }
            let payload = try r.bytes(limit: limits.maxPayloadBytes)
            packet = .startConversation(StartConversation(
                conversation: cid, participants: participants, payload: payload, resent: flags & flagResent != 0,
                answerCut: flags & flagAnswerCut != 0))
        case .addNode:
            let mid = try r.message()
            let sender = try r.participant()
            let preds = try r.messages(limit: limits.maxParticipants)
            let payload = try r.bytes(limit: limits.maxPayloadBytes)
            packet = .addNode(AddNode(
                conversation: cid, message: mid, sender: sender, predecessors: preds,
                payload: payload, resent: flags & flagResent != 0, answerCut: flags & flagAnswerCut != 0))
        case .retransmitRequest:
            let mid = flags & flagHasMessage != 0 ? try r.message() : nil
            let leaves = try r.messages(limit: limits.maxParticipants)
            packet = .retransmitRequest(RetransmitRequest(conversation: cid, message: mid, leaves: leaves))
        case .frontierRequest:
            let frontier = try r.messages(limit: limits.maxParticipants)
            let wanted = try r.messages(limit: limits.maxParticipants)
            let held = try r.messages(limit: limits.maxParticipants)
            packet = .frontierRequest(FrontierRequest(conversation: cid, frontier: frontier, wanted: wanted, held: held,
                                                      isReply: flags & flagReply != 0))
        case .restart:
            let pid = try r.participant()
            let leaves = try r.messages(limit: limits.maxParticipants)
            packet = .restart(Restart(conversation: cid, participant: pid, leaves: leaves))
        }
        guard r.offset == bytes.count else { throw .trailingBytes(offset: r.offset) }
        return packet
    }

    /// A bounds-checked cursor over the input. Every read either succeeds or throws.
    struct Reader {
        let bytes: [UInt8]
        var offset = 0

        mutating func varint(maxBits: Int = 64) throws(WireError) -> UInt64 {
            let start = offset
            let maxBytes = (maxBits + 6) / 7
            var result: UInt64 = 0
            for i in 0..<maxBytes {
                guard offset < bytes.count else { throw .truncated(offset: offset) }
                let byte = bytes[offset]
                offset += 1
                let chunk = UInt64(byte & 0x7F)
                let shift = 7 * i
                guard i < maxBytes - 1 || chunk >> (maxBits - shift) == 0 else { break }
                result |= chunk << shift
                if byte & 0x80 == 0 {
                    // Reject non-minimal encodings so that every packet has exactly one encoding.
                    guard byte != 0 || i == 0 else { throw .invalid("non-minimal varint", offset: start) }
                    return result
                }
            }
            throw .invalid("varint overflows \(maxBits) bits", offset: start)
        }
        mutating func uint32() throws(WireError) -> UInt32 { UInt32(try varint(maxBits: 32)) }
        mutating func participant() throws(WireError) -> ParticipantID {
            ParticipantID(host: HostID(try uint32()), local: try uint32())
        }
        mutating func message() throws(WireError) -> MessageID {
            let sender = try uint32()
            let start = offset
            let sequence = try uint32()
            guard sequence >= 1 else { throw .invalid("message sequence 0", offset: start) }
            return MessageID(sender: Int(sender), sequence: sequence)
        }
        mutating func count(limit: Int, minimumBytesEach: Int) throws(WireError) -> Int {
            let start = offset
            let n = try varint()
            // Compare before converting or multiplying: neither `limit` (settable by the
            // embedder) nor `n` (from the network) can be allowed to overflow an Int.
            guard limit >= 0, n <= UInt64(limit) else { throw .tooLarge("count \(n) exceeds \(limit)", offset: start) }
            guard n <= UInt64((bytes.count - offset) / minimumBytesEach) else { throw .truncated(offset: bytes.count) }
            return Int(n)
        }
        mutating func messages(limit: Int) throws(WireError) -> [MessageID] {
            let n = try count(limit: limit, minimumBytesEach: 2)
            var out: [MessageID] = []
            out.reserveCapacity(n)
            for _ in 0..<n { out.append(try message()) }
            return out
        }
        mutating func bytes(limit: Int) throws(WireError) -> [UInt8] {
            let n = try count(limit: limit, minimumBytesEach: 1)
            defer { offset += n }
            return Array(bytes[offset..<offset + n])
        }
    }
}

/// Why a byte string is not a valid packet. Offsets count from the packet's first byte.
public enum WireError: Error, Hashable, Sendable, CustomStringConvertible {
    case truncated(offset: Int)
    case badMagic
    case unsupportedVersion(UInt8)
    case unknownType(UInt8)
    case badFlags(UInt8)
    case tooLarge(String, offset: Int)
    case invalid(String, offset: Int)
    case trailingBytes(offset: Int)

    public var description: String {
        switch self {
        case .truncated(let o): "truncated packet (input ends at byte \(o))"
        case .badMagic: "not a Psync packet (bad magic)"
        case .unsupportedVersion(let v): "unsupported wire version \(v)"
        case .unknownType(let t): "unknown packet type \(t)"
        case .badFlags(let f): "invalid flags 0x\(String(f, radix: 16))"
        case .tooLarge(let what, let o): "\(what) at byte \(o)"
        case .invalid(let what, let o): "\(what) at byte \(o)"
        case .trailingBytes(let o): "trailing bytes after the packet at byte \(o)"
        }
    }
}
