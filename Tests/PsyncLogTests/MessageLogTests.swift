import Foundation
import Testing
import Psync
import PsyncLog
import PsyncSimulator

/// Section 5's non-volatile image: records round-trip, a torn or corrupted tail is detected
/// and ignored at every offset, and a restart from a damaged log completes from the network.
@Suite struct MessageLogTests {
    static func temporaryPath() -> String { NSTemporaryDirectory() + "psync-log-\(UUID().uuidString).log" }

    static func messages(_ n: Int) -> [AddNode] {
        let cid = ConversationID(4)
        let pids = [ParticipantID(host: HostID(0)), ParticipantID(host: HostID(1))]
        var out = [AddNode(conversation: cid, message: .root, sender: pids[0], predecessors: [], payload: Array("root".utf8))]
        for k in 1..<n {
            let sender = k % 2
            let mid = MessageID(sender: sender, sequence: UInt32(sender == 0 ? k / 2 + 1 : (k + 1) / 2))
            out.append(AddNode(conversation: cid, message: mid, sender: pids[sender], predecessors: [out[k - 1].message],
                               payload: Array(repeating: UInt8(k), count: k % 7)))
        }
        return out
    }

    static func written(_ messages: [AddNode], batch: Int = 8) throws -> String {
        let path = temporaryPath()
        let log = try MessageLog(path: path, batchRecords: batch)
        for m in messages { log.store(m) }
        try log.close()
        return path
    }

    @Test func recordsRoundTrip() throws {
        #expect(CRC32Vector.matches)
        let originals = Self.messages(100)
        let path = try Self.written(originals)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let contents = try MessageLog.read(path)
        #expect(contents.messages == originals)
        #expect(contents.damage == nil)
        // Reopening appends after what is there.
        let more = try MessageLog(path: path)
        more.store(originals[0])
        try more.close()
        #expect(try MessageLog.read(path).messages.count == 101)
    }

    /// The log reads back what it stored, written or still in its batch, and again after it is
    /// reopened; it does not invent what it lacks, and a record damaged on disk is not served.
    @Test func payloadsReadBack() throws {
        let originals = Self.messages(50)
        let path = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let log = try MessageLog(path: path, batchRecords: 8)
        for m in originals { log.store(m) }          // 48 written, 2 waiting in the batch
        for m in originals { #expect(log.payload(of: m.message, in: m.conversation) == m.payload, "\(m.message)") }
        let absent = MessageID(sender: 0, sequence: 1000)
        #expect(log.payload(of: absent, in: ConversationID(4)) == nil)
        #expect(log.payload(of: originals[1].message, in: ConversationID(5)) == nil)
        try log.close()
        let reopened = try MessageLog(path: path)
        for m in originals { #expect(reopened.payload(of: m.message, in: m.conversation) == m.payload, "\(m.message)") }
        // One byte of the tenth record's body flipped on disk: that record is refused.
        var bytes = [UInt8](FileManager.default.contents(atPath: path)!)
        let tenth = MessageLog.header.count + originals.prefix(9).reduce(0) { $0 + 8 + WireCodec.encode(.addNode($1)).count }
        bytes[tenth + 9] ^= 0x01
        let handle = FileHandle(forWritingAtPath: path)!
        try handle.write(contentsOf: Data(bytes))
        try handle.close()
        #expect(reopened.payload(of: originals[9].message, in: originals[9].conversation) == nil)
        #expect(reopened.payload(of: originals[8].message, in: originals[8].conversation) == originals[8].payload)
        try reopened.close()
    }

    /// A log opened with a torn tail loses the tail: what is appended after it reads.
    @Test func openingCutsATornTail() throws {
        let originals = Self.messages(30)
        let path = try Self.written(Array(originals.prefix(20)))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let handle = FileHandle(forWritingAtPath: path)!
        try handle.truncate(atOffset: try handle.seekToEnd() - 5)
        try handle.close()
        #expect(try MessageLog.read(path).messages == Array(originals.prefix(19)))
        let log = try MessageLog(path: path)
        for m in originals.suffix(10) { log.store(m) }
        try log.close()
        let contents = try MessageLog.read(path)
        #expect(contents.damage == nil)
        #expect(contents.messages == Array(originals.prefix(19)) + Array(originals.suffix(10)))
    }

    /// Cut anywhere, a log reads as the records before the cut, flagged unless the cut falls
    /// between records.
    @Test func everyTruncationReadsAGoodPrefix() throws {
        let originals = Self.messages(20)
        let path = try Self.written(originals)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let bytes = [UInt8](FileManager.default.contents(atPath: path)!)
        var boundaries: Set<Int> = [MessageLog.header.count]
        var offset = MessageLog.header.count
        for m in originals {
            offset += 8 + WireCodec.encode(.addNode(m)).count
            boundaries.insert(offset)
        }
        for cut in MessageLog.header.count...bytes.count {
            let contents = try MessageLog.read(bytes: Array(bytes[..<cut]))
            #expect(Array(originals.prefix(contents.messages.count)) == contents.messages)
            #expect((contents.damage == nil) == boundaries.contains(cut), "cut at \(cut)")
        }
    }

    /// A flipped byte anywhere in a record ends the good part just before that record.
    @Test func corruptionIsDetected() throws {
        let originals = Self.messages(12)
        let path = try Self.written(originals)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let bytes = [UInt8](FileManager.default.contents(atPath: path)!)
        var starts: [Int] = []
        var offset = MessageLog.header.count
        for m in originals {
            starts.append(offset)
            offset += 8 + WireCodec.encode(.addNode(m)).count
        }
        for position in MessageLog.header.count..<bytes.count {
            var damaged = bytes
            damaged[position] ^= 0x5A
            let contents = try MessageLog.read(bytes: damaged)
            let record = starts.lastIndex { $0 <= position }!
            #expect(contents.messages == Array(originals.prefix(record)), "byte \(position)")
            #expect(contents.damage?.offset == starts[record])
        }
        #expect(throws: MessageLog.Error.notALog("log")) { try MessageLog.read(bytes: Array("not a log at all".utf8)) }
    }

    /// A host logs what it collects; it fails with its log torn in the middle of a record; the
    /// restarted participant gets the log's good part first and the rest from the network.
    @Test func aRestartFromATornLogCompletesFromTheNetwork() throws {
        var config = HostConfig()
        config.reclaimsPayloads = false
        let path = Self.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let log = try MessageLog(path: path, batchRecords: 4)
        let net = ManualNetwork(hostCount: 2, config: config)
        net.reboot(1, storage: log)
        let pids = [ParticipantID(host: HostID(0)), ParticipantID(host: HostID(1))]
        let cid = ConversationID(4)
        try net[0].activeOpen(pids, as: pids[0], conversation: cid)
        _ = net[1].passiveOpen(pids[1], now: net.now)
        for k in 0..<60 {
            let i = k % 2
            if k > 0 { while try net[i].receive(cid, as: pids[i]) != nil {} }
            _ = try net[i].send([UInt8(k)], in: cid, as: pids[i], now: net.now)
            net.collectAll()
            net.deliverAll()
        }
        try log.close()
        #expect(log.stored > 40)
        let bytes = [UInt8](FileManager.default.contents(atPath: path)!)
        try Data(bytes[..<(bytes.count - 5)]).write(to: URL(fileURLWithPath: path))   // a torn last record
        let contents = try MessageLog.read(path)
        #expect(contents.damage != nil && contents.messages.count == log.stored - 1)

        net.crash(1)
        net.reboot(1)
        try net[1].restart(cid, as: pids[1], participants: pids, leaves: [], logged: contents.messages, now: net.now)
        net.collectAll()
        for _ in 0..<10 {
            net.deliverAll()
            net.advance(by: 100_000_000)
        }
        #expect(net[1].frontier(cid) == net[0].frontier(cid))
    }
}

/// CRC-32's standard check value: "123456789" gives 0xCBF43926.
enum CRC32Vector {
    static var matches: Bool {
        let path = MessageLogTests.temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        // The checksum is internal; its value shows in a record's header bytes.
        guard let log = try? MessageLog(path: path, batchRecords: 1) else { return false }
        let m = AddNode(conversation: ConversationID(1), message: .root, sender: ParticipantID(host: HostID(0)),
                        predecessors: [], payload: [])
        log.store(m)
        try? log.close()
        let bytes = [UInt8](FileManager.default.contents(atPath: path) ?? Data())
        let body = WireCodec.encode(.addNode(m))
        let recorded = (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[MessageLog.header.count + 4 + $1]) << (8 * UInt32($1)) }
        return recorded == referenceCRC32(body) && referenceCRC32(Array("123456789".utf8)) == 0xCBF4_3926
    }

    /// A bit-by-bit CRC-32, independent of the table-driven one under test.
    static func referenceCRC32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            crc ^= UInt32(b)
            for _ in 0..<8 { crc = (crc >> 1) ^ (crc & 1 == 1 ? 0xEDB8_8320 : 0) }
        }
        return ~crc
    }
}
