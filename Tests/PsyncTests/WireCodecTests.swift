// Tests of the binary wire codec (WireCodec.swift): round trips of random valid packets, random and
// mutated byte strings, truncation, and the specific typed errors for each kind of malformed input.
//
// Every random test uses a fixed SplitMix64 seed, so a failure reproduces exactly. Loops count
// their failures and report the first few with the offending bytes instead of calling `#expect`
// once per iteration, which keeps the debug-build runtime low.

import Testing
@testable import Psync

// MARK: - Helpers

/// Decodes without throwing, so loops can inspect the outcome.
private func decodeResult(_ bytes: [UInt8], limits: WireCodec.Limits = WireCodec.Limits()) -> Result<Packet, WireError> {
    do {
        return .success(try WireCodec.decode(bytes, limits: limits))
    } catch {
        return .failure(error)
    }
}

/// The decoding error, or nil if the bytes decode.
private func decodeError(_ bytes: [UInt8], limits: WireCodec.Limits = WireCodec.Limits()) -> WireError? {
    if case .failure(let e) = decodeResult(bytes, limits: limits) { return e }
    return nil
}

private func hex(_ bytes: [UInt8], max: Int = 96) -> String {
    let digits = Array("0123456789abcdef")
    var s = ""
    for b in bytes.prefix(max) { s.append(digits[Int(b >> 4)]); s.append(digits[Int(b & 0xF)]); s.append(" ") }
    if bytes.count > max { s += "... (\(bytes.count) bytes)" }
    return s
}

/// A short name for the case of a `WireError`, ignoring its associated values.
private func caseName(_ e: WireError) -> String {
    switch e {
    case .truncated: "truncated"
    case .badMagic: "badMagic"
    case .unsupportedVersion: "unsupportedVersion"
    case .unknownType: "unknownType"
    case .badFlags: "badFlags"
    case .tooLarge: "tooLarge"
    case .invalid: "invalid"
    case .trailingBytes: "trailingBytes"
    }
}

private func isInvalid(_ e: WireError?, at offset: Int? = nil) -> Bool {
    guard case .invalid(_, let o)? = e else { return false }
    return offset == nil || o == offset
}

private func isTooLarge(_ e: WireError?, at offset: Int? = nil) -> Bool {
    guard case .tooLarge(_, let o)? = e else { return false }
    return offset == nil || o == offset
}

/// Collects failures in a loop; records the first few as issues with their details.
private struct FailureLog {
    var count = 0
    var shown = 0
    mutating func fail(_ message: @autoclosure () -> String, sourceLocation: SourceLocation = #_sourceLocation) {
        count += 1
        if shown < 5 {
            shown += 1
            Issue.record(Comment(rawValue: message()), sourceLocation: sourceLocation)
        }
    }
}

/// The header of a packet: magic, version, type, flags.
private func header(type: UInt8, flags: UInt8 = 0) -> [UInt8] { [0x50, 0x53, 0x01, type, flags] }

private func varint(_ v: UInt64) -> [UInt8] {
    var out: [UInt8] = []
    WireCodec.putVarint(v, &out)
    return out
}

// MARK: - Random valid packets

/// Generates random valid packets, biased toward edge values.
private struct PacketGen {
    var rng: SplitMix64
    let maxCount = 1024  // the default Limits().maxParticipants

    init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    mutating func below(_ n: Int) -> Int { Int(rng.next() % UInt64(n)) }
    mutating func chance(_ p: Double) -> Bool { rng.nextUnit() < p }
    mutating func inRange(_ r: ClosedRange<Int>) -> Int { r.lowerBound + below(r.count) }

    static let edges32: [UInt32] = [
        0, 1, 0x7F, 0x80, 0x3FFF, 0x4000, 0x1F_FFFF, 0x20_0000, 0x0FFF_FFFF, 0x1000_0000,
        UInt32.max - 1, UInt32.max,
    ]
    static let edges64: [UInt64] = [
        0, 1, 0x7F, 0x80, 0x3FFF, 0x4000, UInt64(UInt32.max), UInt64(UInt32.max) + 1,
        1 << 56 - 1, 1 << 56, 1 << 63 - 1, 1 << 63, UInt64.max - 1, UInt64.max,
    ]

    mutating func u64() -> UInt64 {
        switch below(10) {
        case 0...2: return Self.edges64[below(Self.edges64.count)]
        case 3...5: return UInt64(below(300))
        default: return rng.next() >> UInt64(below(64))  // every varint length
        }
    }
    mutating func u32() -> UInt32 {
        switch below(10) {
        case 0...2: return Self.edges32[below(Self.edges32.count)]
        case 3...5: return UInt32(below(300))
        default: return UInt32(truncatingIfNeeded: rng.next() >> UInt64(32 + below(32)))
        }
    }
    mutating func sequence() -> UInt32 { max(1, u32()) }
    mutating func participant() -> ParticipantID { ParticipantID(host: HostID(u32()), local: u32()) }
    mutating func message() -> MessageID { MessageID(sender: Int(u32()), sequence: sequence()) }

    /// A list length: mostly small, sometimes large, sometimes exactly the default limit.
    mutating func count(minimum: Int) -> Int {
        let r = below(1000)
        switch r {
        case 0..<50: return minimum
        case 50..<700: return inRange(max(minimum, 1)...8)
        case 700..<960: return inRange(9...64)
        case 960..<990: return inRange(65...maxCount - 1)
        default: return maxCount
        }
    }

    mutating func payload() -> [UInt8] {
        let n: Int
        switch below(100) {
        case 0..<10: n = 0
        case 10..<70: n = inRange(1...64)
        case 70..<95: n = inRange(65...1024)
        default: n = inRange(1025...4096)
        }
        var out: [UInt8] = []
        out.reserveCapacity(n)
        while out.count < n {
            var w = rng.next()
            for _ in 0..<min(8, n - out.count) {
                out.append(UInt8(truncatingIfNeeded: w))
                w >>= 8
            }
        }
        return out
    }

    mutating func participants() -> [ParticipantID] {
        let n = count(minimum: 1)
        var seen = Set<ParticipantID>()
        var out: [ParticipantID] = []
        out.reserveCapacity(n)
        while out.count < n {
            let p = participant()
            if seen.insert(p).inserted { out.append(p) }
        }
        return out
    }

    mutating func messages() -> [MessageID] {
        let n = count(minimum: 0)
        var out: [MessageID] = []
        out.reserveCapacity(n)
        for _ in 0..<n { out.append(message()) }
        return out
    }

    mutating func packet() -> Packet {
        let cid = ConversationID(u64())
        switch below(7) {
        case 0:
            return .startConversation(StartConversation(
                conversation: cid, participants: participants(), payload: payload(), resent: chance(0.5),
                answerCut: chance(0.2)))
        case 1:
            return .addNode(AddNode(
                conversation: cid, message: message(), sender: participant(), predecessors: messages(),
                payload: payload(), resent: chance(0.5), answerCut: chance(0.2)))
        case 5:
            return .frontierRequest(FrontierRequest(conversation: cid, frontier: messages(), wanted: messages(), held: messages(),
                                                    isReply: chance(0.5)))
        case 6:
            return .frontierRequest(FrontierRequest(conversation: cid, frontier: messages(), wanted: [], held: messages(),
                                                    isReply: chance(0.5)))
        case 2:
            return .retransmitRequest(RetransmitRequest(conversation: cid, message: message(), leaves: messages()))
        case 3:
            return .retransmitRequest(RetransmitRequest(conversation: cid, message: nil, leaves: messages()))
        default:
            return .restart(Restart(conversation: cid, participant: participant(), leaves: messages()))
        }
    }

    /// A valid packet whose encoding is at most `maxBytes` long (for quadratic tests).
    mutating func smallPacket(maxBytes: Int) -> (Packet, [UInt8]) {
        while true {
            let p = packet()
            let bytes = WireCodec.encode(p)
            if bytes.count <= maxBytes { return (p, bytes) }
        }
    }
}

/// Hand-picked packets with every field at an extreme.
private func edgePackets() -> [Packet] {
    let maxPID = ParticipantID(host: HostID(.max), local: .max)
    let zeroPID = ParticipantID(host: HostID(0), local: 0)
    let maxMID = MessageID(sender: Int(UInt32.max), sequence: .max)
    let minMID = MessageID(sender: 0, sequence: 1)
    let manyPIDs = (0..<1024).map { ParticipantID(host: HostID(UInt32.max - UInt32($0)), local: .max) }
    let manyMIDs = (0..<1024).map { MessageID(sender: Int(UInt32.max), sequence: UInt32.max - UInt32($0)) }
    let bigPayload = (0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 31) }
    var out: [Packet] = []
    for cid in [ConversationID(0), ConversationID(.max)] {
        for resent in [false, true] {
            out.append(.startConversation(StartConversation(conversation: cid, participants: [zeroPID], payload: [], resent: resent)))
            out.append(.startConversation(StartConversation(conversation: cid, participants: [maxPID], payload: bigPayload, resent: resent)))
            out.append(.startConversation(StartConversation(conversation: cid, participants: manyPIDs, payload: [0], resent: resent)))
            out.append(.addNode(AddNode(conversation: cid, message: minMID, sender: zeroPID, predecessors: [], payload: [], resent: resent)))
            out.append(.addNode(AddNode(conversation: cid, message: maxMID, sender: maxPID, predecessors: manyMIDs, payload: bigPayload, resent: resent)))
        }
        out.append(.retransmitRequest(RetransmitRequest(conversation: cid, message: nil, leaves: [])))
        out.append(.retransmitRequest(RetransmitRequest(conversation: cid, message: maxMID, leaves: [])))
        out.append(.retransmitRequest(RetransmitRequest(conversation: cid, message: nil, leaves: manyMIDs)))
        out.append(.retransmitRequest(RetransmitRequest(conversation: cid, message: minMID, leaves: [maxMID, maxMID])))
        out.append(.frontierRequest(FrontierRequest(conversation: cid, frontier: [], wanted: [])))
        out.append(.frontierRequest(FrontierRequest(conversation: cid, frontier: manyMIDs, wanted: manyMIDs, held: manyMIDs, isReply: true)))
        out.append(.addNode(AddNode(conversation: cid, message: maxMID, sender: maxPID, predecessors: [], payload: [],
                                    resent: true, answerCut: true)))
        out.append(.restart(Restart(conversation: cid, participant: zeroPID, leaves: [])))
        out.append(.restart(Restart(conversation: cid, participant: maxPID, leaves: manyMIDs)))
    }
    return out
}

// MARK: - Tests

@Suite("WireCodec")
struct WireCodecTests {

    // MARK: Round trips

    @Test("random valid packets round-trip, with exactly one encoding each")
    func roundTripRandomPackets() {
        var gen = PacketGen(seed: 0x5053_0001_C0DE_C0DE)
        var failures = FailureLog()
        var kinds: [String: Int] = [:]
        var rrWithMessage = 0, digests = 0, replies = 0, cut = 0
        var sawMaxCount = false, sawEmptyPayload = false, sawBigPayload = false, sawMaxCID = false
        var sawMaxU32 = false
        let packets = edgePackets() + (0..<20_000).map { _ in gen.packet() }
        for p in packets {
            kinds[p.typeName, default: 0] += 1
            switch p {
            case .startConversation(let sc):
                sawMaxCount = sawMaxCount || sc.participants.count == 1024
                sawEmptyPayload = sawEmptyPayload || sc.payload.isEmpty
                sawBigPayload = sawBigPayload || sc.payload.count > 2048
                if sc.answerCut { cut += 1 }
                sawMaxU32 = sawMaxU32 || sc.participants.contains { $0.host.rawValue == .max || $0.local == .max }
            case .addNode(let an):
                sawMaxCount = sawMaxCount || an.predecessors.count == 1024
                sawEmptyPayload = sawEmptyPayload || an.payload.isEmpty
                sawBigPayload = sawBigPayload || an.payload.count > 2048
                if an.answerCut { cut += 1 }
            case .retransmitRequest(let rr):
                if rr.message != nil { rrWithMessage += 1 }
                sawMaxCount = sawMaxCount || rr.leaves.count == 1024
            case .frontierRequest(let fr):
                if fr.isDigest { digests += 1 }
                if fr.isReply { replies += 1 }
                sawMaxCount = sawMaxCount || fr.frontier.count == 1024 || fr.wanted.count == 1024 || fr.held.count == 1024
            case .restart(let rs):
                sawMaxCount = sawMaxCount || rs.leaves.count == 1024
            }
            sawMaxCID = sawMaxCID || p.conversation.rawValue == .max

            let bytes = WireCodec.encode(p)
            switch decodeResult(bytes) {
            case .failure(let e):
                failures.fail("valid \(p.typeName) packet failed to decode: \(e); bytes \(hex(bytes))")
            case .success(let q):
                if q != p {
                    failures.fail("decode(encode(p)) != p for \(p.typeName); bytes \(hex(bytes))")
                } else if WireCodec.encode(q) != bytes {
                    failures.fail("encode(decode(bytes)) != bytes for \(p.typeName); bytes \(hex(bytes))")
                }
            }
        }
        #expect(failures.count == 0)
        // The generator really covered what it claims to.
        #expect(packets.count >= 20_000)
        for kind in ["SC", "AN", "RR", "FR", "RS"] { #expect(kinds[kind, default: 0] >= 2_000, "too few \(kind)") }
        #expect(rrWithMessage >= 2_000)
        #expect(kinds["RR", default: 0] - rrWithMessage >= 2_000)
        #expect(digests >= 2_000 && replies >= 2_000 && cut >= 1_000)
        #expect(sawMaxCount && sawEmptyPayload && sawBigPayload && sawMaxCID && sawMaxU32)
    }

    @Test("golden encodings pin the documented layout")
    func goldenEncodings() throws {
        // SC: cid 1, participants [p1, p2.3], payload "hi", resent.
        let sc = Packet.startConversation(StartConversation(
            conversation: ConversationID(1),
            participants: [ParticipantID(host: HostID(1)), ParticipantID(host: HostID(2), local: 3)],
            payload: [0x68, 0x69], resent: true))
        let scBytes: [UInt8] = [0x50, 0x53, 0x01, 0x01, 0x01, 0x01, 0x02, 0x01, 0x00, 0x02, 0x03, 0x02, 0x68, 0x69]
        #expect(WireCodec.encode(sc) == scBytes)
        #expect(try WireCodec.decode(scBytes) == sc)

        // AN: cid 300, mid b2 (1, 2), sender p128, preds [a1], empty payload.
        let an = Packet.addNode(AddNode(
            conversation: ConversationID(300), message: MessageID(sender: 1, sequence: 2),
            sender: ParticipantID(host: HostID(128)), predecessors: [.root], payload: []))
        let anBytes: [UInt8] = [0x50, 0x53, 0x01, 0x02, 0x00, 0xAC, 0x02, 0x01, 0x02, 0x80, 0x01, 0x00, 0x01, 0x00, 0x01, 0x00]
        #expect(WireCodec.encode(an) == anBytes)
        #expect(try WireCodec.decode(anBytes) == an)

        // RR with a message and without.
        let rr1 = Packet.retransmitRequest(RetransmitRequest(
            conversation: ConversationID(0), message: MessageID(sender: 2, sequence: 5), leaves: [.root]))
        let rr1Bytes: [UInt8] = [0x50, 0x53, 0x01, 0x03, 0x02, 0x00, 0x02, 0x05, 0x01, 0x00, 0x01]
        #expect(WireCodec.encode(rr1) == rr1Bytes)
        #expect(try WireCodec.decode(rr1Bytes) == rr1)
        let rr0 = Packet.retransmitRequest(RetransmitRequest(conversation: ConversationID(7), message: nil, leaves: []))
        let rr0Bytes: [UInt8] = [0x50, 0x53, 0x01, 0x03, 0x00, 0x07, 0x00]
        #expect(WireCodec.encode(rr0) == rr0Bytes)
        #expect(try WireCodec.decode(rr0Bytes) == rr0)

        // FR: cid 9, frontier [a1, b3], wanted [c2], held [c3]; and a digest reply with nothing.
        let fr = Packet.frontierRequest(FrontierRequest(
            conversation: ConversationID(9), frontier: [.root, MessageID(sender: 1, sequence: 3)],
            wanted: [MessageID(sender: 2, sequence: 2)], held: [MessageID(sender: 2, sequence: 3)]))
        let frBytes: [UInt8] = [0x50, 0x53, 0x01, 0x05, 0x00, 0x09, 0x02, 0x00, 0x01, 0x01, 0x03, 0x01, 0x02, 0x02, 0x01, 0x02, 0x03]
        #expect(WireCodec.encode(fr) == frBytes)
        #expect(try WireCodec.decode(frBytes) == fr)
        let reply = Packet.frontierRequest(FrontierRequest(conversation: ConversationID(9), frontier: [], wanted: [], isReply: true))
        let replyBytes: [UInt8] = [0x50, 0x53, 0x01, 0x05, 0x08, 0x09, 0x00, 0x00, 0x00]
        #expect(WireCodec.encode(reply) == replyBytes)
        #expect(try WireCodec.decode(replyBytes) == reply)
        // AN flagged as the last message of a cut answer.
        let cutAN = Packet.addNode(AddNode(
            conversation: ConversationID(300), message: MessageID(sender: 1, sequence: 2),
            sender: ParticipantID(host: HostID(128)), predecessors: [.root], payload: [], answerCut: true))
        #expect(WireCodec.encode(cutAN) == [0x50, 0x53, 0x01, 0x02, 0x04] + anBytes.dropFirst(5))
        #expect(try WireCodec.decode(WireCodec.encode(cutAN)) == cutAN)

        // RS: cid UInt64.max (ten-byte varint), participant (UInt32.max, 0), no leaves.
        let rs = Packet.restart(Restart(
            conversation: ConversationID(.max), participant: ParticipantID(host: HostID(.max)), leaves: []))
        let rsBytes: [UInt8] = [0x50, 0x53, 0x01, 0x04, 0x00]
            + [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]
            + [0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x00, 0x00]
        #expect(WireCodec.encode(rs) == rsBytes)
        #expect(try WireCodec.decode(rsBytes) == rs)
    }

    // MARK: Random and mutated input

    @Test("random byte strings either throw or re-encode to themselves")
    func randomBytes() {
        var rng = SplitMix64(seed: 0x5053_0002_0BAD_F00D)
        var failures = FailureLog()
        var decodedWithPrefix = 0
        var errorKinds = Set<String>()
        for i in 0..<100_000 {
            // Lengths 0...200, biased toward short strings, which decode more often.
            let length = Int(rng.next() % (rng.next() & 1 == 0 ? 25 : 201))
            var bytes: [UInt8] = []
            bytes.reserveCapacity(length)
            let withPrefix = i % 2 == 0
            if withPrefix {
                let h = header(type: UInt8(1 + rng.next() % 5), flags: [0, 1, 2, 4, 5, 8][Int(rng.next() % 6)])
                bytes.append(contentsOf: h.prefix(length))
            } else if i % 8 == 1 {
                // Only the magic, so that bad versions and types are reached too.
                bytes.append(contentsOf: [0x50, 0x53].prefix(length))
            }
            // Half of the strings use only small byte values, which make short varints and small
            // counts, so that the decoder gets past the counts more often.
            let small = rng.next() & 1 == 0
            while bytes.count < length {
                let r = rng.next()
                bytes.append(small ? UInt8(r % 4) : UInt8(truncatingIfNeeded: r))
            }
            switch decodeResult(bytes) {
            case .failure(let e):
                errorKinds.insert(caseName(e))
            case .success(let p):
                if withPrefix { decodedWithPrefix += 1 }
                let again = WireCodec.encode(p)
                if again != bytes {
                    failures.fail("accepted bytes \(hex(bytes)) re-encode as \(hex(again))")
                }
            }
        }
        #expect(failures.count == 0)
        // The header prefix makes the decoder go deep: some strings decode, and every kind of
        // error is reached.
        #expect(decodedWithPrefix >= 100, "only \(decodedWithPrefix) prefixed strings decoded")
        #expect(errorKinds == [
            "truncated", "badMagic", "unsupportedVersion", "unknownType", "badFlags", "tooLarge", "invalid",
            "trailingBytes",
        ])
    }

    @Test("every strict prefix of a valid packet is truncated")
    func truncation() {
        var gen = PacketGen(seed: 0x5053_0003_7255_4E43)
        var failures = FailureLog()
        var samples: [[UInt8]] = (0..<600).map { _ in gen.smallPacket(maxBytes: 400).1 }
        // A few large packets too: 1024 entries and a 4 KiB payload.
        let cid = ConversationID(.max)
        let pids = (0..<1024).map { ParticipantID(host: HostID(UInt32($0))) }
        let mids = (0..<1024).map { MessageID(sender: $0 % 3, sequence: UInt32($0 + 1)) }
        let large: [Packet] = [
            .startConversation(StartConversation(conversation: cid, participants: pids, payload: [1, 2, 3])),
            .addNode(AddNode(
                conversation: cid, message: .root, sender: pids[1], predecessors: mids,
                payload: Array(repeating: 0xAB, count: 1000))),
            .startConversation(StartConversation(
                conversation: cid, participants: [pids[0]], payload: Array(repeating: 0x80, count: 4096))),
            .restart(Restart(conversation: cid, participant: pids[5], leaves: mids)),
        ]
        samples += large.map { WireCodec.encode($0) }
        var prefixes = 0
        for bytes in samples {
            for n in 0..<bytes.count {
                prefixes += 1
                let prefix = Array(bytes[..<n])
                switch decodeResult(prefix) {
                case .success:
                    failures.fail("strict prefix of length \(n) decoded: \(hex(prefix))")
                case .failure(let e):
                    // The input simply ends: the error is `truncated` at the end of the input.
                    if e != .truncated(offset: n) {
                        failures.fail("prefix of length \(n) of \(hex(bytes)) gave \(e), not truncated at \(n)")
                    }
                }
            }
        }
        #expect(failures.count == 0)
        #expect(prefixes > 50_000)
    }

    @Test("mutated valid packets either throw or re-encode to the mutated bytes")
    func mutation() {
        var gen = PacketGen(seed: 0x5053_0004_F11B_F11B)
        var rng = SplitMix64(seed: 0x5053_0004_0000_0001)
        var failures = FailureLog()
        var accepted = 0, rejected = 0
        for _ in 0..<1_500 {
            let (_, bytes) = gen.smallPacket(maxBytes: 300)
            // Every position, with a random non-zero XOR mask, plus a few single-bit flips.
            var mutants: [[UInt8]] = []
            for i in 0..<bytes.count {
                var m = bytes
                m[i] ^= UInt8(1 + rng.next() % 255)
                mutants.append(m)
            }
            for _ in 0..<8 {
                var m = bytes
                let i = Int(rng.next() % UInt64(bytes.count))
                m[i] ^= 1 << UInt8(rng.next() % 8)
                mutants.append(m)
            }
            for m in mutants {
                switch decodeResult(m) {
                case .failure:
                    rejected += 1
                case .success(let p):
                    accepted += 1
                    let again = WireCodec.encode(p)
                    if again != m {
                        failures.fail("mutant \(hex(m)) of \(hex(bytes)) decoded but re-encodes as \(hex(again))")
                    }
                }
            }
        }
        #expect(failures.count == 0)
        #expect(accepted > 1_000 && rejected > 1_000, "accepted \(accepted), rejected \(rejected)")
    }

    // MARK: Specific errors

    @Test("header errors")
    func headerErrors() {
        let valid = WireCodec.encode(.restart(Restart(conversation: ConversationID(5), participant: ParticipantID(host: HostID(1)), leaves: [])))
        #expect(decodeError(valid) == nil)

        // Too short for a header.
        for n in 0..<5 { #expect(decodeError(Array(valid.prefix(n))) == .truncated(offset: n)) }

        // Bad magic in either byte.
        var m = valid; m[0] = 0x51
        #expect(decodeError(m) == .badMagic)
        m = valid; m[1] = 0x00
        #expect(decodeError(m) == .badMagic)
        #expect(decodeError([0, 0, 0, 0, 0]) == .badMagic)

        // Versions other than 1.
        m = valid; m[2] = 2
        #expect(decodeError(m) == .unsupportedVersion(2))
        m = valid; m[2] = 0
        #expect(decodeError(m) == .unsupportedVersion(0))
        m = valid; m[2] = 0xFF
        #expect(decodeError(m) == .unsupportedVersion(0xFF))

        // Unknown types.
        for t: UInt8 in [0, 6, 9, 0xFF] {
            m = valid; m[3] = t
            #expect(decodeError(m) == .unknownType(t))
        }

        // Unknown flag bits, per type: SC and AN allow 0x01 and 0x04, RR allows 0x02, FR 0x08,
        // RS none.
        for f: UInt8 in [0x02, 0x08, 0x80, 0x03, 0xFF] {
            #expect(decodeError(header(type: 1, flags: f) + [0, 1, 0, 0, 0]) == .badFlags(f))
            #expect(decodeError(header(type: 2, flags: f) + [0, 0, 1, 0, 0, 0, 0]) == .badFlags(f))
        }
        for f: UInt8 in [0x01, 0x04, 0x80, 0x03, 0xFF] {
            #expect(decodeError(header(type: 3, flags: f) + [0, 0]) == .badFlags(f))
        }
        for f: UInt8 in [0x01, 0x02, 0x80, 0xFF] {
            #expect(decodeError(header(type: 4, flags: f) + [0, 0, 0, 0]) == .badFlags(f))
        }
        for f: UInt8 in [0x01, 0x02, 0x04, 0x80, 0xFF] {
            #expect(decodeError(header(type: 5, flags: f) + [0, 0, 0, 0]) == .badFlags(f))
        }
        // The allowed flags decode.
        #expect(decodeError(header(type: 1, flags: 1) + [0, 1, 0, 0, 0]) == nil)
        #expect(decodeError(header(type: 2, flags: 1) + [0, 0, 1, 0, 0, 0, 0]) == nil)
        #expect(decodeError(header(type: 3, flags: 2) + [0, 0, 1, 0]) == nil)
        #expect(decodeError(header(type: 2, flags: 5) + [0, 0, 1, 0, 0, 0, 0]) == nil)
        #expect(decodeError(header(type: 5, flags: 8) + [0, 0, 0, 0]) == nil)
    }

    @Test("trailing bytes")
    func trailingBytes() {
        var gen = PacketGen(seed: 0x5053_0005)
        for _ in 0..<200 {
            let (_, bytes) = gen.smallPacket(maxBytes: 200)
            for extra: [UInt8] in [[0], [0xFF], [1, 2, 3]] {
                #expect(decodeError(bytes + extra) == .trailingBytes(offset: bytes.count))
            }
        }
        // A second packet appended is trailing too.
        let rr = WireCodec.encode(.retransmitRequest(RetransmitRequest(conversation: ConversationID(1), message: nil, leaves: [])))
        #expect(decodeError(rr + rr) == .trailingBytes(offset: rr.count))
    }

    @Test("counts above maxParticipants are tooLarge")
    func participantLimit() {
        let limits = WireCodec.Limits(maxParticipants: 4)
        func pids(_ n: Int) -> [ParticipantID] { (0..<n).map { ParticipantID(host: HostID(UInt32($0))) } }
        func mids(_ n: Int) -> [MessageID] { (0..<n).map { MessageID(sender: $0, sequence: 1) } }
        let cid = ConversationID(9)
        let at: [Packet] = [
            .startConversation(StartConversation(conversation: cid, participants: pids(4), payload: [])),
            .addNode(AddNode(conversation: cid, message: .root, sender: pids(1)[0], predecessors: mids(4), payload: [])),
            .retransmitRequest(RetransmitRequest(conversation: cid, message: nil, leaves: mids(4))),
            .retransmitRequest(RetransmitRequest(conversation: cid, message: .root, leaves: mids(4))),
            .restart(Restart(conversation: cid, participant: pids(1)[0], leaves: mids(4))),
        ]
        let over: [Packet] = [
            .startConversation(StartConversation(conversation: cid, participants: pids(5), payload: [])),
            .addNode(AddNode(conversation: cid, message: .root, sender: pids(1)[0], predecessors: mids(5), payload: [])),
            .retransmitRequest(RetransmitRequest(conversation: cid, message: nil, leaves: mids(5))),
            .retransmitRequest(RetransmitRequest(conversation: cid, message: .root, leaves: mids(5))),
            .restart(Restart(conversation: cid, participant: pids(1)[0], leaves: mids(5))),
        ]
        // The offset of the count field in each packet of `over`.
        let countOffsets = [6, 10, 6, 8, 8]
        for p in at {
            let bytes = WireCodec.encode(p, limits: limits)
            #expect(decodeResult(bytes, limits: limits) == .success(p), "\(p.typeName) at the limit")
        }
        for (p, offset) in zip(over, countOffsets) {
            let bytes = WireCodec.encode(p)
            let e = decodeError(bytes, limits: limits)
            #expect(isTooLarge(e, at: offset), "\(p.typeName) over the limit gave \(String(describing: e))")
            #expect(decodeResult(bytes) == .success(p))
        }
        // A huge claimed count is tooLarge before anything is allocated.
        let huge = header(type: 4) + [0, 0, 0] + varint(UInt64.max)
        #expect(isTooLarge(decodeError(huge), at: 8))
        // A count within the limit but beyond the input is truncated.
        let short = header(type: 1) + [0] + varint(1000) + [1, 0]
        #expect(decodeError(short) == .truncated(offset: short.count))
    }

    @Test("payloads above maxPayloadBytes are tooLarge")
    func payloadLimit() {
        let limits = WireCodec.Limits(maxPayloadBytes: 8)
        let pid = ParticipantID(host: HostID(1))
        for n in [0, 8] {
            let sc = Packet.startConversation(StartConversation(conversation: ConversationID(1), participants: [pid], payload: Array(repeating: 7, count: n)))
            let an = Packet.addNode(AddNode(conversation: ConversationID(1), message: .root, sender: pid, predecessors: [], payload: Array(repeating: 7, count: n)))
            for p in [sc, an] {
                #expect(decodeResult(WireCodec.encode(p, limits: limits), limits: limits) == .success(p))
            }
        }
        let sc = Packet.startConversation(StartConversation(conversation: ConversationID(1), participants: [pid], payload: Array(repeating: 7, count: 9)))
        let an = Packet.addNode(AddNode(conversation: ConversationID(1), message: .root, sender: pid, predecessors: [], payload: Array(repeating: 7, count: 9)))
        #expect(isTooLarge(decodeError(WireCodec.encode(sc), limits: limits), at: 9))
        #expect(isTooLarge(decodeError(WireCodec.encode(an), limits: limits), at: 11))
        // A claimed payload length far beyond the default limit.
        let huge = header(type: 1) + [0, 1, 0, 0] + varint(1 << 40)
        #expect(isTooLarge(decodeError(huge), at: 9))
        // A payload length within the limit but beyond the input is truncated.
        let short = header(type: 1) + [0, 1, 0, 0, 5, 1, 2]
        #expect(decodeError(short) == .truncated(offset: short.count))
    }

    @Test("non-minimal and overlong varints are invalid")
    func varintErrors() {
        // The reference: RR, cid 0, no message, no leaves.
        #expect(decodeError(header(type: 3) + [0x00, 0x00]) == nil)
        // Non-minimal cid: 0x80 0x00 encodes 0 in two bytes.
        #expect(isInvalid(decodeError(header(type: 3) + [0x80, 0x00, 0x00]), at: 5))
        #expect(isInvalid(decodeError(header(type: 3) + [0x81, 0x00, 0x00]), at: 5))
        #expect(isInvalid(decodeError(header(type: 3) + [0xFF, 0x80, 0x00, 0x00]), at: 5))
        // Non-minimal count.
        #expect(isInvalid(decodeError(header(type: 3) + [0x00, 0x80, 0x00]), at: 6))
        // Non-minimal 32-bit fields: RS participant host and local.
        #expect(isInvalid(decodeError(header(type: 4) + [0x00, 0x80, 0x00, 0x00, 0x00]), at: 6))
        #expect(isInvalid(decodeError(header(type: 4) + [0x00, 0x00, 0x85, 0x00, 0x00]), at: 7))
        // Non-minimal payload length.
        #expect(isInvalid(decodeError(header(type: 1) + [0, 1, 0, 0, 0x80, 0x00]), at: 9))

        // 32-bit fields: five bytes hold at most UInt32.max; a sixth byte or a fifth byte above
        // 0x0F is invalid.
        let maxU32: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF, 0x0F]
        #expect(decodeResult(header(type: 4) + [0] + maxU32 + [0, 0])
            == .success(.restart(Restart(conversation: ConversationID(0), participant: ParticipantID(host: HostID(.max)), leaves: []))))
        #expect(isInvalid(decodeError(header(type: 4) + [0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 0, 0]), at: 6))
        #expect(isInvalid(decodeError(header(type: 4) + [0, 0xFF, 0xFF, 0xFF, 0xFF, 0x8F, 0x00, 0, 0]), at: 6))
        #expect(isInvalid(decodeError(header(type: 4) + [0, 0xFF, 0xFF, 0xFF, 0xFF, 0x1F, 0, 0]), at: 6))
        #expect(isInvalid(decodeError(header(type: 4) + [0, 0x80, 0x80, 0x80, 0x80, 0x10, 0, 0]), at: 6))
        // The same in a message sequence (AN mid) and a message sender (RR leaf).
        #expect(isInvalid(decodeError(header(type: 2) + [0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0x1F, 0, 0, 0, 0]), at: 7))
        #expect(isInvalid(decodeError(header(type: 3) + [0, 1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 1]), at: 7))

        // 64-bit fields: ten bytes hold at most UInt64.max; the tenth byte may only be 0x01.
        let maxU64: [UInt8] = Array(repeating: 0xFF, count: 9) + [0x01]
        #expect(decodeResult(header(type: 3) + maxU64 + [0])
            == .success(.retransmitRequest(RetransmitRequest(conversation: ConversationID(.max), message: nil, leaves: []))))
        #expect(isInvalid(decodeError(header(type: 3) + Array(repeating: 0xFF, count: 9) + [0x02, 0]), at: 5))
        #expect(isInvalid(decodeError(header(type: 3) + Array(repeating: 0xFF, count: 9) + [0x81, 0x00, 0]), at: 5))
        #expect(isInvalid(decodeError(header(type: 3) + Array(repeating: 0x80, count: 10) + [0x01, 0]), at: 5))
        // A 64-bit count that overflows is invalid, not tooLarge.
        #expect(isInvalid(decodeError(header(type: 3) + [0] + Array(repeating: 0xFF, count: 10) + [0x01]), at: 6))
    }

    @Test("semantic errors: empty or duplicate SC participants, sequence 0")
    func semanticErrors() {
        // SC with zero participants.
        let scEmpty = header(type: 1) + [0x00, 0x00, 0x00]
        #expect(isInvalid(decodeError(scEmpty)))
        #expect(isInvalid(decodeError(header(type: 1, flags: 1) + [0x07, 0x00, 0x02, 0x68, 0x69])))

        // SC listing a participant twice, adjacent or not; the same host with another local is fine.
        let p1: [UInt8] = [0x01, 0x00], p2: [UInt8] = [0x02, 0x00], p1b: [UInt8] = [0x01, 0x01]
        #expect(isInvalid(decodeError(header(type: 1) + [0x00, 0x02] + p1 + p1 + [0x00])))
        #expect(isInvalid(decodeError(header(type: 1) + [0x00, 0x03] + p1 + p2 + p1 + [0x00])))
        #expect(decodeError(header(type: 1) + [0x00, 0x02] + p1 + p1b + [0x00]) == nil)
        // A 1024-participant SC whose last entry repeats the first.
        var many: [UInt8] = header(type: 1) + [0x00] + varint(1024)
        for i in 0..<1023 { many += varint(UInt64(i)) + [0x00] }
        #expect(decodeError(many + varint(1023) + [0x00] + [0x00]) == nil)
        #expect(isInvalid(decodeError(many + [0x00, 0x00] + [0x00])))

        // Message sequence 0, in every place a message id appears.
        // AN: the message itself and a predecessor.
        #expect(isInvalid(decodeError(header(type: 2) + [0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00]), at: 7))
        #expect(decodeError(header(type: 2) + [0x00, 0x00, 0x01, 0x01, 0x00, 0x00, 0x00]) == nil)
        #expect(isInvalid(decodeError(header(type: 2) + [0x00, 0x00, 0x01, 0x01, 0x00, 0x01, 0x03, 0x00, 0x00]), at: 12))
        // RR: the named message and a leaf.
        #expect(isInvalid(decodeError(header(type: 3, flags: 2) + [0x00, 0x05, 0x00, 0x00]), at: 7))
        #expect(isInvalid(decodeError(header(type: 3) + [0x00, 0x01, 0x05, 0x00]), at: 8))
        // RS: a leaf.
        #expect(isInvalid(decodeError(header(type: 4) + [0x00, 0x01, 0x00, 0x02, 0x00, 0x01, 0x00, 0x00]), at: 12))
        // Sequence 0 in a non-minimal disguise is still rejected.
        #expect(isInvalid(decodeError(header(type: 3) + [0x00, 0x01, 0x05, 0x80, 0x00])))
    }

    @Test("decoding with the limits used to encode accepts every valid packet")
    func limitsAgree() {
        // A packet at exactly the limits decodes with those limits and not with smaller ones.
        var gen = PacketGen(seed: 0x5053_0006)
        for _ in 0..<300 {
            let (p, bytes) = gen.smallPacket(maxBytes: 2_000)
            let n: Int, payload: Int
            switch p {
            case .startConversation(let sc): (n, payload) = (sc.participants.count, sc.payload.count)
            case .addNode(let an): (n, payload) = (an.predecessors.count, an.payload.count)
            case .retransmitRequest(let rr): (n, payload) = (rr.leaves.count, 0)
            case .frontierRequest(let fr): (n, payload) = (max(fr.frontier.count, fr.wanted.count, fr.held.count), 0)
            case .restart(let rs): (n, payload) = (rs.leaves.count, 0)
            }
            let exact = WireCodec.Limits(maxParticipants: n, maxPayloadBytes: payload)
            #expect(WireCodec.encode(p, limits: exact) == bytes)
            #expect(decodeResult(bytes, limits: exact) == .success(p))
            if n > 0 {
                #expect(isTooLarge(decodeError(bytes, limits: .init(maxParticipants: n - 1, maxPayloadBytes: payload))))
            }
            if payload > 0 {
                #expect(isTooLarge(decodeError(bytes, limits: .init(maxParticipants: n, maxPayloadBytes: payload - 1))))
            }
        }
    }

    /// Found by fuzzing: limits chosen by an embedder (negative, or huge as "unlimited") must not
    /// let a crafted count overflow an Int and trap the decoder.
    @Test("extreme limits never trap")
    func extremeLimits() {
        let huge: [UInt8] = [0x50, 0x53, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00,
                             0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40]
        #expect(throws: WireError.self) { try WireCodec.decode(huge, limits: .init(maxParticipants: Int.max)) }
        let rs = WireCodec.encode(.restart(Restart(conversation: ConversationID(1), participant: ParticipantID(host: HostID(0)), leaves: [])))
        #expect(throws: WireError.self) { try WireCodec.decode(rs, limits: .init(maxParticipants: -1)) }
    }
}
