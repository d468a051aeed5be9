import Foundation
import NIOCore
import NIOPosix
import Psync
import PsyncAnalysis
import PsyncAuth
import PsyncTrace
import Testing
@testable import PsyncNIO

/// Authenticated conversations over UDP: a process at a participant's own address but without
/// the key cannot inject, alter or forge a message; a replayed authentic packet is a duplicate.
@Suite struct AuthenticatedNodeTests {
    @Test func withoutTheKeyNothingGetsInAndReplaysAreDuplicates() async throws {
        let dir = temporaryDirectory()
        // Hosts 0 and 1 run nodes sharing the secret; host 2, a participant, is played by the
        // test from its listed address.
        let ports = try freePorts(3)
        var book = PeerAddressBook()
        for i in 0..<3 { try book.add(HostID(UInt32(i)), at: .init(address: "127.0.0.1", port: ports[i])) }
        let secret = Array("a secret of the test's own, 32 b".utf8)
        let configs = try (0..<2).map { i in
            var c = NodeConfig(host: HostID(UInt32(i)), listen: book.endpoint(of: HostID(UInt32(i)))!, peers: book,
                               tracePath: "\(dir)/h\(i).jsonl.lz4")
            c.authentication = try PacketAuthenticator(secret: secret)
            return c
        }
        let a = try await PsyncNode.start(configs[0]), b = try await PsyncNode.start(configs[1])
        let intruder = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: ports[2]).get()
        let pids = (0..<3).map { ParticipantID(host: HostID(UInt32($0))) }
        let cid = ConversationID(5)
        let opener = try await a.open(pids, as: pids[0], conversation: cid)
        _ = try await opener.send(Array("first".utf8))
        let other = try await b.waitForConversation(as: pids[1], timeoutNanoseconds: 5_000_000_000)
        var inbox = other.messages.makeAsyncIterator()
        #expect(try #require(await inbox.next()).payload == Array("first".utf8))

        func dataPacket(_ payload: String) -> [UInt8] {
            WireCodec.encode(.addNode(AddNode(conversation: cid, message: MessageID(sender: 2, sequence: 1), sender: pids[2],
                                              predecessors: [.root], payload: Array(payload.utf8))))
        }
        var wrongKey = try PacketAuthenticator(secret: Array(repeating: 7, count: 32))
        var rightKey = try PacketAuthenticator(secret: secret)
        let forged = wrongKey.seal(dataPacket("forged"), conversation: cid)
        let untagged = dataPacket("untagged")
        // An authentic packet (as if captured from p2), then the same with its payload changed.
        let authentic = rightKey.seal(dataPacket("real"), conversation: cid)
        var altered = authentic
        altered[altered.count - PacketAuthenticator.tagLength - 1] ^= 0x20
        let target = try SocketAddress(ipAddress: "127.0.0.1", port: ports[1])
        for bytes in [forged, untagged, altered, authentic, authentic] {
            try await intruder.writeAndFlush(AddressedEnvelope(remoteAddress: target, data: ByteBuffer(bytes: bytes)))
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        // What b's participant gets next is the authentic message, once.
        #expect(try #require(await inbox.next()).payload == Array("real".utf8))
        // The conversation goes on between the nodes that hold the key: a's participant gets
        // p2's authentic message (asked of b, since the reply is in its context), then the reply.
        _ = try await other.send(Array("reply".utf8))
        var outbox = opener.messages.makeAsyncIterator()
        #expect(try #require(await outbox.next()).payload == Array("real".utf8))
        #expect(try #require(await outbox.next()).payload == Array("reply".utf8))
        let counters = try await b.counters().node
        #expect(counters.unauthenticatedDrops == 3)
        try await a.shutdown()
        try await b.shutdown()
        try await intruder.close()

        var reasons: [String: Int] = [:], details: [String] = []
        var delivered: [String] = []
        _ = try TraceStream.read("\(dir)/h1.jsonl.lz4") { e in
            if case .drop(let d) = e.kind {
                reasons[d.reason, default: 0] += 1
                if d.reason == "unauthenticated" { details.append(d.detail) }
            }
            if case .receive(_, _, let m) = e.kind { delivered.append(m.description) }
        }
        #expect(reasons["unauthenticated"] == 3, "\(reasons)")
        #expect(reasons["duplicate", default: 0] >= 1, "\(reasons)")
        // The untagged packet is shorter than a tag: it has none; the other two have wrong ones.
        #expect(details.filter { $0.contains("HMAC tag is wrong") }.count == 2, "\(details)")
        #expect(details.filter { $0.contains("no authentication tag") }.count == 1, "\(details)")
        #expect(delivered.filter { $0 == "c1" }.count == 1, "\(delivered)")
    }
}
