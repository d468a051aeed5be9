import Foundation
import NIOCore
import NIOPosix
import Psync
import PsyncAnalysis
import PsyncTrace
import Testing
@testable import PsyncNIO

/// Bad input on a node's port: random bytes, truncated packets, well-formed packets from an
/// address that is no listed host, and from a listed host that is not a participant. All are
/// dropped and traced; nothing crashes; the conversation goes on.
@Suite struct BadInputTests {
    /// A raw UDP socket of the test's own, to send arbitrary bytes from a chosen address.
    func rawSocket(port: Int) async throws -> Channel {
        try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: port).get()
    }

    @Test func garbageIsDroppedAndTracedAndTheConversationGoesOn() async throws {
        let dir = temporaryDirectory()
        // Hosts 0 and 1 run nodes; host 2 is listed but played by the test (not a participant);
        // the intruder's address is not listed at all.
        let ports = try freePorts(4)
        var book = PeerAddressBook()
        for i in 0..<3 { try book.add(HostID(UInt32(i)), at: .init(address: "127.0.0.1", port: ports[i])) }
        let configs = (0..<2).map { i in
            NodeConfig(host: HostID(UInt32(i)), listen: book.endpoint(of: HostID(UInt32(i)))!, peers: book,
                       tracePath: "\(dir)/h\(i).jsonl.lz4")
        }
        let a = try await PsyncNode.start(configs[0]), b = try await PsyncNode.start(configs[1])
        let listed = try await rawSocket(port: ports[2]), intruder = try await rawSocket(port: ports[3])
        let pids = [ParticipantID(host: HostID(0)), ParticipantID(host: HostID(1))]
        let cid = ConversationID(5)
        let opener = try await a.open(pids, as: pids[0], conversation: cid)
        _ = try await opener.send(Array("first".utf8))
        let other = try await b.waitForConversation(as: pids[1], timeoutNanoseconds: 5_000_000_000)

        let wellFormed = WireCodec.encode(.addNode(AddNode(conversation: cid, message: MessageID(sender: 1, sequence: 1),
                                                           sender: pids[1], predecessors: [.root], payload: [1, 2, 3])))
        var rng = SplitMix64(seed: 4)
        var garbage: [[UInt8]] = (0..<200).map { _ in (0..<Int(rng.next() % 300)).map { _ in UInt8(truncatingIfNeeded: rng.next()) } }
        garbage += (0..<wellFormed.count).map { Array(wellFormed.prefix($0)) }  // every truncation
        garbage.append([0x50, 0x42, 1, 1, 0xFF, 0xFF])                         // a broken blast fragment
        let target = try SocketAddress(ipAddress: "127.0.0.1", port: ports[1])
        for bytes in garbage {
            try await listed.writeAndFlush(AddressedEnvelope(remoteAddress: target, data: ByteBuffer(bytes: bytes)))
        }
        for _ in 0..<10 {
            try await intruder.writeAndFlush(AddressedEnvelope(remoteAddress: target, data: ByteBuffer(bytes: wellFormed)))
        }
        // A well-formed packet from the listed host 2, which is not a participant of the conversation.
        try await listed.writeAndFlush(AddressedEnvelope(remoteAddress: target, data: ByteBuffer(bytes: wellFormed)))
        try await Task.sleep(nanoseconds: 300_000_000)

        // The conversation goes on in both directions.
        _ = try await other.send(Array("reply".utf8))
        var iterator = opener.messages.makeAsyncIterator()
        let reply = try #require(await iterator.next())
        #expect(reply.payload == Array("reply".utf8))
        let counters = try await b.counters().node
        #expect(counters.unknownSourceDrops == 10)
        try await a.shutdown()
        try await b.shutdown()
        try await listed.close()
        try await intruder.close()

        var reasons: [String: Int] = [:]
        _ = try TraceStream.read("\(dir)/h1.jsonl.lz4") { e in
            if case .drop(let d) = e.kind { reasons[d.reason, default: 0] += 1 }
        }
        #expect(reasons["non-participant", default: 0] == 11, "\(reasons)")
        #expect(reasons["malformed", default: 0] == garbage.count, "\(reasons)")
    }
}
