import Crypto
import Psync

/// Authenticated conversations: every packet carries an HMAC-SHA256 tag over its bytes under
/// its conversation's key, and a packet whose tag is missing or wrong is dropped before the
/// engine sees it.
///
/// The paper's hosts trust the network (Section 3 assumes packets are lost, duplicated or
/// delayed, never forged). A researcher running Psync over a shared network, or studying
/// Byzantine-tolerant policies on top of it, needs at least this: a process without the key
/// cannot inject a message (its tag is wrong), alter one in flight (the tag covers every byte,
/// the conversation id and the sender's message id included) or forge one from a participant.
/// Replaying a captured packet is harmless by construction of the context graph: a message id
/// names one message forever, so a replayed AN is a duplicate and a replayed request only makes
/// a host answer again.
///
/// What it does not do: hide contents (no encryption), or tell participants apart (every
/// participant of a conversation holds the same key, so a participant could speak for
/// another; per-participant signatures would be the next step).
///
/// Keys: one secret per deployment (at least 16 bytes); each conversation's key is derived
/// from it with HKDF-SHA256 (RFC 5869, info "psync conversation <cid>"), so the key of one
/// conversation tells nothing of another's and a packet cannot be moved between them.
///
/// The engine stays free of cryptography (it is sans-I/O and dependency-free): the shells
/// seal what they send and open what they receive, at the byte boundary.
///
/// `@unchecked Sendable`: its keys are `SymmetricKey` values, immutable once made (a buffer
/// swift-crypto never writes after creation), which swift-crypto 3 does not mark `Sendable`.
public struct PacketAuthenticator: @unchecked Sendable {
    /// Bytes appended to every packet (the full HMAC-SHA256 output, never truncated).
    public static let tagLength = 32
    /// The shortest secret accepted (RFC 2104 advises keys no shorter than the hash's output;
    /// HKDF stretches shorter ones, but below 128 bits guessing becomes a real attack).
    public static let minimumSecretLength = 16

    let secret: SymmetricKey
    /// Per conversation, an HMAC already keyed (its inner and outer hash states past the key
    /// block): HKDF and the key schedule run once per conversation, not once per packet, and
    /// each packet copies the state (a third of the cost of a 46-byte packet's tag).
    var keyed: [ConversationID: HMAC<SHA256>] = [:]

    public init(secret: [UInt8]) throws(AuthenticationError) {
        guard secret.count >= Self.minimumSecretLength else {
            throw .secretTooShort(secret.count)
        }
        self.secret = SymmetricKey(data: secret)
    }

    /// The conversation's key (HKDF-SHA256 of the secret): what to hand a host that should
    /// take part in this conversation only.
    public func key(for cid: ConversationID) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: secret, salt: Array("psync".utf8),
                               info: Array("psync conversation \(cid.rawValue)".utf8), outputByteCount: 32)
    }

    /// The HMAC-SHA256 of `packet` under the key of conversation `cid`.
    mutating func tag(_ packet: [UInt8], conversation cid: ConversationID) -> HashedAuthenticationCode<SHA256> {
        var mac: HMAC<SHA256>
        if let state = keyed[cid] { mac = state } else {
            mac = HMAC<SHA256>(key: key(for: cid))
            keyed[cid] = mac
        }
        mac.update(data: packet)
        return mac.finalize()
    }

    /// `packet` (the wire codec's bytes of a packet of conversation `cid`) followed by its tag.
    public mutating func seal(_ packet: [UInt8], conversation cid: ConversationID) -> [UInt8] {
        var sealed = packet
        sealed.reserveCapacity(packet.count + Self.tagLength)
        sealed.append(contentsOf: tag(packet, conversation: cid))
        return sealed
    }

    /// The packet bytes of a sealed datagram whose tag is right under the key of the
    /// conversation its header names; otherwise why it was refused. The comparison of tags
    /// takes the same time whatever bytes differ (swift-crypto's `==` on a MAC is `safeCompare`).
    public mutating func open(_ datagram: [UInt8]) -> Result<[UInt8], AuthenticationError> {
        guard datagram.count > Self.tagLength else { return .failure(.missingTag(datagram.count)) }
        let packet = Array(datagram.dropLast(Self.tagLength))
        let cid: ConversationID
        do { cid = try WireCodec.conversation(of: packet) } catch { return .failure(.unreadableHeader(error)) }
        guard tag(packet, conversation: cid) == datagram.suffix(Self.tagLength) else { return .failure(.badTag(cid)) }
        return .success(packet)
    }
}

/// Why a secret or a datagram was refused.
public enum AuthenticationError: Error, Equatable, Sendable, CustomStringConvertible {
    case secretTooShort(Int)
    /// No room for a tag: `count` bytes in all.
    case missingTag(Int)
    /// The header does not name a conversation, so no key applies.
    case unreadableHeader(WireError)
    /// The tag is not the conversation's HMAC of the bytes: forged, altered, or another key.
    case badTag(ConversationID)

    public var description: String {
        switch self {
        case .secretTooShort(let n): "an authentication secret needs at least \(PacketAuthenticator.minimumSecretLength) bytes, this one has \(n)"
        case .missingTag(let n): "no authentication tag (\(n) bytes in all, a tag alone is \(PacketAuthenticator.tagLength))"
        case .unreadableHeader(let e): "no conversation to authenticate for: \(e)"
        case .badTag(let cid): "the HMAC tag is wrong for conversation \(cid.rawValue): forged, altered, or sealed with another key"
        }
    }
}

/// What the shells call, authenticating or not: one place decides what goes on the wire.
extension Optional where Wrapped == PacketAuthenticator {
    /// The bytes `packet` travels as: encoded, and sealed when authenticating.
    public mutating func wireBytes(_ packet: Packet, limits: WireCodec.Limits) -> [UInt8] {
        let bytes = WireCodec.encode(packet, limits: limits)
        guard self != nil else { return bytes }
        return self!.seal(bytes, conversation: packet.conversation)
    }

    /// The packet's bytes inside `datagram`: the datagram itself on the paper's trusted network.
    public mutating func packetBytes(_ datagram: [UInt8]) -> Result<[UInt8], AuthenticationError> {
        guard self != nil else { return .success(datagram) }
        return self!.open(datagram)
    }
}
