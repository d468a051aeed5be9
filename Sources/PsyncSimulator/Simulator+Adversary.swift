import Psync
import PsyncAuth
import PsyncTrace

/// The adversary of `FaultSchedule.attacks` (see `Attack`): what it has seen on the network,
/// the alterations it has armed, and a key of its own (not the conversation's).
struct Adversary {
    /// The newest data packet seen (its bytes as sent, tag included), and the host that sent it.
    var newest: (an: AddNode, bytes: [UInt8], from: HostID)?
    /// The highest sequence number seen per sender index.
    var highestSequence: [UInt32: UInt32] = [:]
    /// Hosts whose next arriving data packet is changed in flight.
    var armedAlters: Set<HostID> = []
    var ownKey: PacketAuthenticator

    init(seed: UInt64) {
        ownKey = try! PacketAuthenticator(secret: Self.secret(seed: seed, domain: 0xAD7E_25A2_0000_0001))
    }

    /// The hosts' shared secret in an authenticated simulation, from the seed (so a trace's
    /// header is enough to run it again).
    static func conversationSecret(seed: UInt64) -> PacketAuthenticator {
        try! PacketAuthenticator(secret: secret(seed: seed, domain: 0x5EC2_E700_0000_0001))
    }

    /// 32 bytes from a generator of their own: drawing them does not shift the run's streams.
    static func secret(seed: UInt64, domain: UInt64) -> [UInt8] {
        var rng = SplitMix64(seed: seed ^ domain)
        return (0..<4).flatMap { _ in withUnsafeBytes(of: rng.next().littleEndian) { Array($0) } }
    }

    mutating func observe(_ packet: Packet, _ bytes: [UInt8], from: HostID) {
        guard case .addNode(let an) = packet else { return }
        newest = (an, bytes, from)
        highestSequence[an.message.sender] = max(highestSequence[an.message.sender] ?? 0, an.message.sequence)
    }

    /// The packet as it reaches `to`: changed if an alteration is armed for it and it carries
    /// data (payload's first byte flipped, or a byte added; the tag, if any, kept as it was).
    mutating func alter(_ packet: Packet, _ bytes: [UInt8], to: HostID, tagged: Bool) -> (Packet, [UInt8])? {
        guard armedAlters.contains(to), case .addNode(var an) = packet else { return nil }
        armedAlters.remove(to)
        if an.payload.isEmpty { an.payload = [0x58] } else { an.payload[0] ^= 0xFF }
        var altered = WireCodec.encode(.addNode(an))
        if tagged { altered += bytes.suffix(PacketAuthenticator.tagLength) }
        return (.addNode(an), altered)
    }

    /// A message claiming to come from the participant after `target`'s, with that sender's
    /// next sequence number as seen, in the context of the newest message seen; tagged under the
    /// adversary's own key when the conversation is authenticated.
    mutating func forge(against target: HostID, participants: [ParticipantID], conversation: ConversationID,
                        tagged: Bool) -> (packet: Packet, bytes: [UInt8], from: HostID) {
        let index = participants.firstIndex { $0.host == target }.map { ($0 + 1) % participants.count } ?? 0
        // Participant 0's sequence 1 is the root (the SC).
        let seen = max(highestSequence[UInt32(index)] ?? 0, index == 0 ? 1 : 0)
        let an = AddNode(conversation: conversation, message: MessageID(sender: index, sequence: seen + 1),
                         sender: participants[index], predecessors: [newest?.an.message ?? .root],
                         payload: Array("forged".utf8))
        var bytes = WireCodec.encode(.addNode(an))
        if tagged { bytes = ownKey.seal(bytes, conversation: conversation) }
        return (.addNode(an), bytes, participants[index].host)
    }
}

extension Simulator {
    /// Carries out one attack of the fault schedule.
    func attack(_ a: Attack) {
        let target = HostID(a.host)
        switch a.kind {
        case .alter:
            adversary.armedAlters.insert(target)
        case .forge:
            let forged = adversary.forge(against: target, participants: config.participantIDs,
                                         conversation: config.conversation, tagged: authenticator != nil)
            network.attacked += 1
            queue.push(.deliver(to: target, from: forged.from, packet: forged.packet, bytes: forged.bytes), at: now)
        case .replay:
            guard let seen = adversary.newest else { return }
            network.attacked += 1
            queue.push(.deliver(to: target, from: seen.from, packet: .addNode(seen.an), bytes: seen.bytes), at: now)
        }
    }

    /// A packet on its way into `to`, altered if the adversary armed an alteration for it.
    func arriving(_ packet: Packet, _ bytes: [UInt8], to: HostID) -> (Packet, [UInt8]) {
        guard let altered = adversary.alter(packet, bytes, to: to, tagged: authenticator != nil) else { return (packet, bytes) }
        network.attacked += 1
        return altered
    }

    /// The datagram the engine of `to` gets: the bytes as they came on the paper's trusted
    /// network; with authentication, the packet inside a right tag, or nil (dropped, traced).
    func opened(_ bytes: [UInt8], _ packet: Packet, from: HostID, to: HostID) -> [UInt8]? {
        switch authenticator.packetBytes(bytes) {
        case .success(let inner):
            return inner
        case .failure(let why):
            network.droppedUnauthenticated += 1
            record(to, .drop(DropRecord(reason: DropReason.unauthenticated.rawValue, conversation: packet.conversation,
                                        message: PacketRecord(packet, peer: from, bytes: 0).message, from: from, to: to,
                                        detail: why.description)))
            return nil
        }
    }
}
