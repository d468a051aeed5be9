import Psync

/// The body of a filter's control message, written and read field by field: a tag byte saying
/// what the message is (a vote, an order, an ACK), then integers and message ids, little-endian.
/// A sequencer's order message is a tag and the ids it orders; a membership vote a tag and a
/// participant index. Control bodies come from the network: a reader answers nil for a body
/// that is short or has bytes left over, never traps.
///
/// ```swift
/// var body = ControlBody(tag: UInt8(ascii: "O"))
/// body.append(m)                                   // a MessageID
/// context.sendControl(body.bytes, from: self)
///
/// var reader = ControlBody.Reader(bytes)           // in input(_:_:)
/// guard reader.tag == UInt8(ascii: "O"), let m = reader.messageID(), reader.isAtEnd else { return }
/// ```
public struct ControlBody: Sendable, Equatable {
    public private(set) var bytes: [UInt8]

    public init(tag: UInt8) { bytes = [tag] }

    public mutating func append(_ value: UInt32) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// A message id: its sender's index, then its sequence number (8 bytes).
    public mutating func append(_ m: MessageID) {
        append(m.sender)
        append(m.sequence)
    }

    /// Reads a control body written by `ControlBody`.
    public struct Reader: Sendable {
        private let bytes: [UInt8]
        private var offset = 1
        /// The first byte (nil for an empty body).
        public let tag: UInt8?

        public init(_ bytes: [UInt8]) {
            self.bytes = bytes
            tag = bytes.first
        }

        /// Whether every byte has been read.
        public var isAtEnd: Bool { offset >= bytes.count }

        public mutating func uint32() -> UInt32? {
            guard offset + 4 <= bytes.count else { return nil }
            defer { offset += 4 }
            return bytes[offset..<offset + 4].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        }

        public mutating func messageID() -> MessageID? {
            guard let sender = uint32(), let sequence = uint32() else { return nil }
            return MessageID(sender: Int(sender), sequence: sequence)
        }
    }
}
