import Psync
import PsyncAuth
import Testing

/// The tag covers every byte: any change, truncation, another key or another conversation is
/// refused; the right key opens what it sealed.
@Suite struct PacketAuthenticatorTests {
    static let cid = ConversationID(7)
    static let packets: [Packet] = [
        .startConversation(StartConversation(conversation: cid, participants: [ParticipantID(host: HostID(0)), ParticipantID(host: HostID(1))],
                                             payload: Array("hello".utf8))),
        .addNode(AddNode(conversation: cid, message: MessageID(sender: 1, sequence: 3), sender: ParticipantID(host: HostID(1)),
                         predecessors: [MessageID(sender: 0, sequence: 2), MessageID(sender: 1, sequence: 2)], payload: Array(repeating: 9, count: 40))),
        .retransmitRequest(RetransmitRequest(conversation: cid, message: MessageID(sender: 0, sequence: 4), leaves: [.root])),
    ]

    func authenticator(_ byte: UInt8 = 1) throws -> PacketAuthenticator {
        try PacketAuthenticator(secret: Array(repeating: byte, count: 32))
    }

    @Test func whatIsSealedOpensToTheSameBytes() throws {
        var a = try authenticator()
        for packet in Self.packets {
            let bytes = WireCodec.encode(packet)
            let sealed = a.seal(bytes, conversation: Self.cid)
            #expect(sealed.count == bytes.count + PacketAuthenticator.tagLength)
            #expect(try a.open(sealed).get() == bytes)
            // Another instance with the same secret (another host) opens it too.
            var b = try authenticator()
            #expect(try b.open(sealed).get() == bytes)
        }
    }

    @Test func everyFlippedBitEveryTruncationAndEveryExtensionIsRefused() throws {
        var a = try authenticator()
        for packet in Self.packets {
            let sealed = a.seal(WireCodec.encode(packet), conversation: Self.cid)
            for i in sealed.indices {
                for bit in 0..<8 {
                    var changed = sealed
                    changed[i] ^= 1 << bit
                    #expect(throws: AuthenticationError.self) { try a.open(changed).get() }
                }
            }
            for n in 0..<sealed.count {
                #expect(throws: AuthenticationError.self) { try a.open(Array(sealed.prefix(n))).get() }
            }
            #expect(throws: AuthenticationError.self) { try a.open(sealed + [0]).get() }
        }
    }

    @Test func anotherSecretCannotSealOrOpen() throws {
        var mine = try authenticator(1), theirs = try authenticator(2)
        for packet in Self.packets {
            let bytes = WireCodec.encode(packet)
            #expect(mine.open(theirs.seal(bytes, conversation: Self.cid)) == .failure(.badTag(Self.cid)))
            #expect(mine.open(bytes + Array(repeating: 0, count: PacketAuthenticator.tagLength)) == .failure(.badTag(Self.cid)))
        }
    }

    @Test func aPacketCannotBeMovedToAnotherConversation() throws {
        var a = try authenticator()
        let an = AddNode(conversation: ConversationID(1), message: MessageID(sender: 1, sequence: 2), sender: ParticipantID(host: HostID(1)),
                         predecessors: [.root], payload: [1, 2, 3])
        let sealed = a.seal(WireCodec.encode(.addNode(an)), conversation: an.conversation)
        var moved = an
        moved.conversation = ConversationID(2)
        let forged = WireCodec.encode(.addNode(moved)) + sealed.suffix(PacketAuthenticator.tagLength)
        #expect(try a.open(sealed).get().count == sealed.count - PacketAuthenticator.tagLength)
        #expect(a.open(forged) == .failure(.badTag(ConversationID(2))))
        // Each conversation has a key of its own, none of them the secret.
        #expect(a.key(for: ConversationID(1)) != a.key(for: ConversationID(2)))
    }

    @Test func shortSecretsAndTaglessDatagramsAreRefusedWithTheReason() throws {
        #expect(throws: AuthenticationError.secretTooShort(15)) { try PacketAuthenticator(secret: Array(repeating: 1, count: 15)) }
        _ = try PacketAuthenticator(secret: Array(repeating: 1, count: 16))
        var a = try authenticator()
        #expect(a.open([]) == .failure(.missingTag(0)))
        #expect(a.open(Array(repeating: 0, count: 32)) == .failure(.missingTag(32)))
        if case .failure(.unreadableHeader) = a.open(Array(repeating: 0, count: 40)) {} else { Issue.record("garbage must be unreadable") }
        #expect("\(AuthenticationError.badTag(ConversationID(3)))".contains("conversation 3"))
    }
}
