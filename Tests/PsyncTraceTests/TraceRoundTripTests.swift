import Foundation
import Testing
import Psync
import PsyncTrace

/// Every event kind is written and read back equal, through JSON and through lz4 files.
@Suite struct TraceRoundTripTests {
    static let cid = ConversationID(7)
    static let p = ParticipantID(host: HostID(1)), q = ParticipantID(host: HostID(2), local: 3)
    static let m = MessageID(sender: 1, sequence: 4), big = MessageID(sender: 30, sequence: 2)

    static var allKinds: [TraceEvent] {
        let kinds: [TraceEvent.Kind] = [
            .open(cid, p, participants: [p, q], active: true),
            .send(cid, p, m, predecessors: [.root, big], payloadBytes: 32, content: nil),
            .send(cid, p, big, predecessors: [m], payloadBytes: 2, content: "ack"),
            .packetOut(PacketRecord(type: "AN", conversation: cid, message: m, peer: HostID(2), bytes: 40, resent: true)),
            .packetIn(PacketRecord(type: "RR", conversation: cid, message: nil, peer: HostID(0), bytes: 9, resent: false)),
            .arrive(cid, m, predecessors: [.root]),
            .hold(cid, m, missing: [big]),
            .release(cid, m),
            .retransmitRequest(cid, m, leaves: [.root], to: [HostID(0)], broadcast: false),
            .retransmitRequest(cid, nil, leaves: [], to: [HostID(0), HostID(2)], broadcast: true),
            .frontierRequest(cid, frontier: [.root, m], wanted: [big], held: [m], reply: false, to: [HostID(0)], reason: "source"),
            .frontierRequest(cid, frontier: [], wanted: [], held: [], reply: true, to: [HostID(0), HostID(2)], reason: "digest-reply"),
            .retransmitAnswer(cid, requester: HostID(2), messages: [.root, m], cut: false),
            .retransmitAnswer(cid, requester: HostID(2), messages: [m], cut: true),
            .digestsStopped(cid, unanswered: [HostID(3)]),
            .resend(cid, m),
            .resendSuccessors(cid, m, successors: [big], to: HostID(0)),
            .receive(cid, q, m),
            .stable(cid, q, m),
            .maskOut(cid, p, target: q),
            .maskIn(cid, p, target: q),
            .drop(DropRecord(reason: "loss", conversation: cid, message: m, from: HostID(0), to: HostID(1), detail: "a \"quoted\"\ndetail")),
            .drop(DropRecord(reason: "malformed")),
            .crash,
            .partition(side: [HostID(0), HostID(3)], healAt: 5_000_000_000),
            .heal(side: [HostID(0)]),
            .other(name: "deliver", fields: [("filter", .string("waves")), ("position", .uint(3)), ("nested", .array([.int(-2), .double(0.5), .null, .bool(true)]))]),
        ]
        return kinds.enumerated().map { i, k in
            TraceEvent(time: UInt64(i) * 1_007, host: k == .crash || i % 5 != 0 ? HostID(UInt32(i % 4)) : nil, k)
        }
    }

    static let header = TraceHeader(clock: "virtual", seed: UInt64.max, participants: [p, q], conversation: cid,
                                    filters: ["waves"], run: .object([("x", .uint(1)), ("y", .string("é\u{1}"))]))

    @Test func everyKindRoundTripsThroughJSON() throws {
        for e in Self.allKinds + [TraceEvent(time: 0, host: nil, .header(Self.header))] {
            let decoded = try TraceEvent(json: try JSONParser.parse(e.jsonLine))
            #expect(decoded == e, "\(e.jsonLine)")
            #expect(decoded.jsonLine == e.jsonLine)
        }
        #expect(Set(Self.allKinds.map(\.kind.name)).count == 22, "every kind but the header is covered")
    }

    @Test func everyKindRoundTripsThroughAFile() throws {
        let path = temporaryPath("all-kinds.jsonl.lz4")
        var options = LZ4TraceWriter.Options()
        options.maxFrameRecords = 5
        let writer = try LZ4TraceWriter(path: path, options: options)
        writer.record(TraceEvent(time: 0, host: nil, .header(Self.header)))
        for e in Self.allKinds { writer.record(e) }
        try writer.close()
        #expect(writer.frames == 7, "the header's frame, then 28 records in frames of 5")
        let (header, events) = try TraceReader.readAll(path: path)
        #expect(header == Self.header)
        #expect(events == Self.allKinds)
    }

    @Test func unknownFieldsAndKindsAreAccepted() throws {
        let e = try TraceEvent(json: try JSONParser.parse(#"{"t":5,"kind":"receive","host":1,"cid":1,"p":"p1","mid":"a1","extra":[1,2]}"#))
        #expect(e.kind == .receive(ConversationID(1), ParticipantID(host: HostID(1)), .root))
        let o = try TraceEvent(json: try JSONParser.parse(#"{"t":5,"kind":"vote","round":2}"#))
        #expect(o.kind.name == "vote")
        #expect(throws: TraceFormatError.self) { try TraceEvent(json: try JSONParser.parse(#"{"t":5,"kind":"receive","cid":1}"#)) }
        #expect(throws: TraceFormatError.self) { try TraceEvent(json: try JSONParser.parse(#"{"t":-5,"kind":"crash"}"#)) }
        #expect(throws: TraceFormatError.self) { try TraceEvent(json: try JSONParser.parse(#"{"t":5,"kind":"send","cid":1,"p":"x","mid":"a1","preds":[],"bytes":1}"#)) }
    }

    @Test func labelsRoundTrip() {
        for m in [MessageID.root, MessageID(sender: 25, sequence: 99), MessageID(sender: 26, sequence: 1), MessageID(sender: 1000, sequence: 7)] {
            #expect(MessageID(label: m.description) == m)
        }
        for bad in ["", "a", "a0", "A1", "p3:1", "a1x", "p26:0", "p3:"] { #expect(MessageID(label: bad) == nil, "\(bad)") }
        for p in [ParticipantID(host: HostID(0)), ParticipantID(host: HostID(9), local: 2)] {
            #expect(ParticipantID(label: p.description) == p)
        }
        for bad in ["", "p", "q1", "p1.0", "p1.2.3", "p-1"] { #expect(ParticipantID(label: bad) == nil, "\(bad)") }
    }

    @Test func jsonParserNeverTraps() {
        var rng = SplitMix64(seed: 11)
        let alphabet = Array(#"{}[]",:0123456789-.eE truefalsn\u"abc"#.utf8)
        var parsed = 0
        for _ in 0..<50_000 {
            let n = Int(rng.next() % 40)
            let bytes = (0..<n).map { _ in rng.next() % 4 == 0 ? UInt8(truncatingIfNeeded: rng.next()) : alphabet[Int(rng.next() % UInt64(alphabet.count))] }
            let text = String(decoding: bytes, as: UTF8.self)
            if let v = try? JSONParser.parse(text) {
                parsed += 1
                #expect((try? JSONParser.parse(v.text)) == v)
            }
        }
        #expect(parsed > 100)
        let deep = String(repeating: "[", count: 10_000)
        #expect(throws: JSONError.self) { try JSONParser.parse(deep) }
    }
}
