import Foundation
import Psync

/// Section 5's non-volatile image of one host: an append-only file of the messages the host
/// collected (`StableStorage`: "the garbage collection mechanism must be modified to write
/// messages to non-volatile storage rather than free them"), read back first when a
/// participant restarts (`Host.restart(..., logged:)`), after which the network fills in the
/// rest.
///
/// Format: the 8-byte header `PSYNCLG1`, then one record per message: its length (4 bytes,
/// little endian), the CRC-32 of its body (4 bytes, little endian), and the body, the message
/// as an AN in the wire format (`WireCodec`). Written in batches ("the changes to the non-volatile
/// copy [need not] keep pace with changes to the copy in volatile memory"): a crash loses the
/// records not yet written, and may leave a torn last record. Reading stops at the first
/// record that is short, too long, fails its checksum or does not decode, and reports it: what
/// precedes it is good; what follows is ignored and recovered from the network. Opening a log
/// cuts such a tail off, so that what is appended after it can be read.
///
/// The log also reads back (`stored(_:in:)`): its host serves the messages whose buffers it
/// freed or whose nodes it reclaimed to a host that restarted without them, from an index of record offsets (a few dozen
/// bytes per message, against the message's whole buffer in memory).
public final class MessageLog: StableStorage {
    public static let header = Array("PSYNCLG1".utf8)

    public enum Error: Swift.Error, Equatable, CustomStringConvertible {
        case cannotOpen(String)
        case notALog(String)
        case cannotWrite(String)

        public var description: String {
            switch self {
            case .cannotOpen(let why): "cannot open the message log: \(why)"
            case .notALog(let path): "\(path) is not a message log (no PSYNCLG1 header)"
            case .cannotWrite(let why): "cannot write the message log: \(why)"
            }
        }
    }

    /// What a log held: the good records, and where reading stopped if not at the end.
    public struct Contents: Sendable {
        public var messages: [AddNode]
        /// Byte offset of the first bad or incomplete record, and why; nil if the log is whole.
        public var damage: (offset: Int, reason: String)?
    }

    public let path: String
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    /// Bytes of the file before `buffer`.
    private var written: Int
    /// Where each stored message's record body starts, and its length.
    private var index: [Key: (offset: Int, length: Int)] = [:]

    private struct Key: Hashable {
        var conversation: ConversationID
        var message: MessageID
    }
    private let batchRecords: Int
    private var pending = 0
    /// Messages stored so far.
    public private(set) var stored = 0
    /// The first write error (the log stops writing then; the host runs on without it).
    public private(set) var failure: Error?

    /// Opens (creating if needed) the log at `path` for appending; records are written once
    /// `batchRecords` of them wait, and on `flush` and `close`.
    public init(path: String, batchRecords: Int = 64) throws(Error) {
        self.path = path
        self.batchRecords = max(1, batchRecords)
        let fm = FileManager.default
        if !fm.fileExists(atPath: path) && !fm.createFile(atPath: path, contents: Data(Self.header)) {
            throw .cannotOpen("cannot create \(path)")
        }
        guard let h = FileHandle(forUpdatingAtPath: path) else { throw .cannotOpen("cannot open \(path)") }
        let bytes = (try? h.readToEnd()).map { [UInt8]($0) } ?? []
        guard bytes.count >= Self.header.count, Array(bytes[..<Self.header.count]) == Self.header else {
            try? h.close()
            throw .notALog(path)
        }
        var end = bytes.count
        var found: [Key: (offset: Int, length: Int)] = [:]
        let damage = Self.scan(bytes) { offset, length, an in
            let key = Key(conversation: an.conversation, message: an.message)
            if found[key] == nil { found[key] = (offset, length) }
        }
        do {
            if let damage {
                try h.truncate(atOffset: UInt64(damage.offset))
                end = damage.offset
            }
            try h.seekToEnd()
        } catch { throw .cannotOpen("\(error)") }
        written = end
        index = found
        handle = h
    }

    public func store(_ message: AddNode) {
        guard failure == nil else { return }
        let body = WireCodec.encode(.addNode(message))
        let key = Key(conversation: message.conversation, message: message.message)
        if index[key] == nil { index[key] = (written + buffer.count + 8, body.count) }
        Self.appendUInt32(UInt32(body.count), to: &buffer)
        Self.appendUInt32(CRC32.checksum(body), to: &buffer)
        buffer += body
        stored += 1
        pending += 1
        if pending >= batchRecords { flush() }
    }

    /// Writes the records that wait.
    public func flush() {
        guard !buffer.isEmpty, failure == nil else { return }
        do { try handle.write(contentsOf: Data(buffer)) } catch { failure = .cannotWrite("\(error)") }
        written += buffer.count
        buffer.removeAll(keepingCapacity: true)
        pending = 0
    }

    /// The payload of a message stored in this log, read back from the file (its checksum
    /// checked again) or from the records not yet written; nil if the log does not have it.
    public func stored(_ message: MessageID, in conversation: ConversationID) -> AddNode? {
        guard let (offset, length) = index[Key(conversation: conversation, message: message)] else { return nil }
        var record: [UInt8]
        if offset >= written {
            let start = offset - written - 8
            record = Array(buffer[start..<(start + 8 + length)])
        } else {
            record = [UInt8](repeating: 0, count: 8 + length)
            let got = record.withUnsafeMutableBytes { pread(handle.fileDescriptor, $0.baseAddress, 8 + length, off_t(offset - 8)) }
            guard got == 8 + length else { return nil }
        }
        let body = Array(record[8...])
        guard Self.uint32(record, 4) == CRC32.checksum(body), case .addNode(let an) = try? WireCodec.decode(body),
              an.message == message else { return nil }
        return an
    }

    public func close() throws(Error) {
        flush()
        try? handle.close()
        if let failure { throw failure }
    }

    /// Reads the log at `path` up to its first damaged or incomplete record. O(bytes).
    public static func read(_ path: String) throws(Error) -> Contents {
        guard let data = FileManager.default.contents(atPath: path) else { throw .cannotOpen("cannot read \(path)") }
        return try read(bytes: [UInt8](data), path: path)
    }

    /// `read` for bytes already in memory (`path` names them in errors).
    public static func read(bytes: [UInt8], path: String = "log") throws(Error) -> Contents {
        guard bytes.count >= header.count, Array(bytes[..<header.count]) == header else { throw .notALog(path) }
        var contents = Contents(messages: [], damage: nil)
        contents.damage = scan(bytes) { _, _, an in contents.messages.append(an) }
        return contents
    }

    /// Walks the records after the header, giving each good one (its body's offset and length,
    /// and the message) to `record`; returns where and why it stopped early, nil at the end.
    static func scan(_ bytes: [UInt8], _ record: (Int, Int, AddNode) -> Void) -> (offset: Int, reason: String)? {
        var offset = header.count
        while offset < bytes.count {
            guard bytes.count - offset >= 8 else { return (offset, "a torn record header") }
            let length = Int(uint32(bytes, offset)), checksum = uint32(bytes, offset + 4)
            guard length <= WireCodec.Limits().maxPayloadBytes + 64 * 1024 else {
                return (offset, "a record length of \(length) bytes")
            }
            guard bytes.count - offset - 8 >= length else {
                return (offset, "a torn record (\(bytes.count - offset - 8) of \(length) bytes)")
            }
            let body = Array(bytes[(offset + 8)..<(offset + 8 + length)])
            guard CRC32.checksum(body) == checksum else { return (offset, "a checksum mismatch") }
            guard case .addNode(let an) = try? WireCodec.decode(body) else { return (offset, "a record that is not a message") }
            record(offset + 8, length, an)
            offset += 8 + length
        }
        return nil
    }

    static func appendUInt32(_ v: UInt32, to out: inout [UInt8]) {
        for k in 0..<4 { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt32(k)))) }
    }

    static func uint32(_ b: [UInt8], _ at: Int) -> UInt32 {
        (0..<4).reduce(0) { $0 | UInt32(b[at + $1]) << (8 * UInt32($1)) }
    }
}

/// CRC-32 (IEEE 802.3, the polynomial of zlib and Ethernet), table-driven.
enum CRC32 {
    static let table: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes { c = table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }
}
