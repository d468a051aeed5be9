/// The datagram format of the blast layer (Section 6.2: large Psync messages travel through "an
/// underlying blast protocol ... encapsulated as a distinct protocol rather than embedded in Psync").
///
/// Layout (all integers are unsigned LEB128 varints, minimal encoding, unless said otherwise):
///
///     magic "PB" (2 bytes) | version (1 byte, = 1) | kind (1 byte) | body
///
///     kind 1 fragment: blast id, fragment count, index, total length, fragment bytes (to the end)
///     kind 2 NACK:     blast id, fragment count, n, n x missing index (strictly increasing)
///
/// The magic differs from Psync's "PS" in its second byte, so a shell tells the two protocols apart
/// from the first two bytes (`isBlast`) and small Psync packets travel with no blast header at all.
///
/// Fragment layout is a function of (total length, count, index) alone: the datagram is cut into
/// `count` pieces whose sizes differ by at most one byte, the longer ones first. So a fragment carries
/// no offset or length field, the receiver can check every fragment's size, and two fragments of the
/// same blast that disagree on count or total length are detectably inconsistent.
///
/// Decoding never traps: malformed, truncated, oversized or trailing input is a `BlastCodecError`.
public enum BlastCodec {
    /// The first two bytes of every blast datagram, "PB" (Psync packets start with "PS").
    public static let magic: (UInt8, UInt8) = (0x50, 0x42)
    /// The format version, the third byte.
    public static let version: UInt8 = 1

    /// The longest NACK header: magic, version, kind and three 10-byte varints (id, count, n).
    static let maxNackHeaderBytes = 4 + 3 * 10

    enum Kind: UInt8 {
        case fragment = 1, nack = 2
    }

    /// Bounds that the decoder enforces.
    public struct Limits: Sendable, Hashable {
        /// The largest fragment count accepted (in fragments and NACKs).
        public var maxFragmentCount: Int
        /// The largest total (reassembled) length accepted, in bytes.
        public var maxDatagramBytes: Int
        /// Usually taken from `BlastConfig.limits`.
        public init(maxFragmentCount: Int, maxDatagramBytes: Int) {
            self.maxFragmentCount = maxFragmentCount
            self.maxDatagramBytes = maxDatagramBytes
        }
    }

    /// One piece of a blast. `bytes` is exactly `fragmentRange(index:count:totalBytes:)` of the
    /// original datagram.
    public struct Fragment: Sendable, Hashable {
        /// Names the blast among its sender's blasts (consecutive per sender).
        public var blastID: UInt64
        /// How many fragments the blast has (at least 2).
        public var count: Int
        /// This fragment's position, below `count`.
        public var index: Int
        /// The length of the whole datagram, at least `count`.
        public var totalBytes: Int
        /// This fragment's part of the datagram (a slice of the decoded datagram, not a copy).
        public var bytes: ArraySlice<UInt8>
        /// A fragment as described; `encode` checks it against the layout.
        public init(blastID: UInt64, count: Int, index: Int, totalBytes: Int, bytes: ArraySlice<UInt8>) {
            self.blastID = blastID
            self.count = count
            self.index = index
            self.totalBytes = totalBytes
            self.bytes = bytes
        }
    }

    /// A receiver's request for the fragments it lacks. `count` lets the sender check that the NACK
    /// is about the blast it retains under that id.
    public struct Nack: Sendable, Hashable {
        /// The blast asked about.
        public var blastID: UInt64
        /// The blast's fragment count, as the receiver learned it.
        public var count: Int
        /// Missing indices, strictly increasing, each below `count`.
        public var missing: [Int]
        /// A NACK as described; `encode` checks the indices.
        public init(blastID: UInt64, count: Int, missing: [Int]) {
            self.blastID = blastID
            self.count = count
            self.missing = missing
        }
    }

    /// A decoded blast datagram.
    public enum Datagram: Sendable, Hashable {
        case fragment(Fragment)
        case nack(Nack)
    }

    /// Whether `bytes` belongs to the blast protocol (starts with "PB"). Only the magic is checked,
    /// so a blast datagram of an unknown version is dropped by the blast layer rather than handed to
    /// the Psync engine.
    public static func isBlast(_ bytes: some Collection<UInt8>) -> Bool {
        var it = bytes.makeIterator()
        return it.next() == magic.0 && it.next() == magic.1
    }

    /// The bytes of the original datagram that fragment `index` carries: `count` pieces whose sizes
    /// differ by at most one, the longer first. Requires `0 <= index < count <= totalBytes`.
    public static func fragmentRange(index: Int, count: Int, totalBytes: Int) -> Range<Int> {
        precondition(0 <= index && index < count && count <= totalBytes, "fragment index out of range")
        let (base, longer) = totalBytes.quotientAndRemainder(dividingBy: count)
        let start = index * base + min(index, longer)
        return start..<start + base + (index < longer ? 1 : 0)
    }

    // MARK: Encoding

    /// The datagram of a fragment. Requires `bytes` to match the layout of `index`.
    public static func encode(_ fragment: Fragment) -> [UInt8] {
        precondition(fragment.bytes.count == fragmentRange(
            index: fragment.index, count: fragment.count, totalBytes: fragment.totalBytes).count,
            "fragment bytes do not match the layout")
        var out = header(.fragment, capacity: 24 + fragment.bytes.count)
        putVarint(fragment.blastID, &out)
        putVarint(UInt64(fragment.count), &out)
        putVarint(UInt64(fragment.index), &out)
        putVarint(UInt64(fragment.totalBytes), &out)
        out.append(contentsOf: fragment.bytes)
        return out
    }

    /// The datagram of a NACK. Requires at least one index, strictly increasing, below `count`.
    public static func encode(_ nack: Nack) -> [UInt8] {
        precondition(!nack.missing.isEmpty, "a NACK names at least one fragment")
        precondition(zip(nack.missing, nack.missing.dropFirst()).allSatisfy { $0 < $1 }
                     && nack.missing[0] >= 0 && nack.missing.last! < nack.count,
                     "NACK indices must be strictly increasing and below the count")
        var out = header(.nack, capacity: maxNackHeaderBytes + 2 * nack.missing.count)
        putVarint(nack.blastID, &out)
        putVarint(UInt64(nack.count), &out)
        putVarint(UInt64(nack.missing.count), &out)
        for index in nack.missing { putVarint(UInt64(index), &out) }
        return out
    }

    /// The number of bytes of `value` as a varint.
    static func varintBytes(_ value: UInt64) -> Int {
        max(1, (64 - value.leadingZeroBitCount + 6) / 7)
    }

    private static func header(_ kind: Kind, capacity: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(capacity)
        out.append(contentsOf: [magic.0, magic.1, version, kind.rawValue])
        return out
    }

    private static func putVarint(_ value: UInt64, _ out: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    // MARK: Decoding

    /// The fragment or NACK in `bytes`, or the first reason it is not one. O(bytes.count).
    public static func decode(_ bytes: [UInt8], limits: Limits) throws(BlastCodecError) -> Datagram {
        guard bytes.count >= 4 else { throw .truncated(offset: bytes.count) }
        guard isBlast(bytes) else { throw .badMagic }
        guard bytes[2] == version else { throw .unsupportedVersion(bytes[2]) }
        guard let kind = Kind(rawValue: bytes[3]) else { throw .unknownKind(bytes[3]) }
        var r = Reader(bytes: bytes, offset: 4)
        let blastID = try r.varint()
        let countAt = r.offset
        let count = try r.int(limit: limits.maxFragmentCount)
        guard count >= 2 else { throw .invalid("fragment count \(count) below 2", offset: countAt) }
        switch kind {
        case .fragment:
            let indexAt = r.offset
            let index = try r.int(limit: Int.max)
            guard index < count else { throw .invalid("index \(index) not below count \(count)", offset: indexAt) }
            let totalAt = r.offset
            let total = try r.int(limit: limits.maxDatagramBytes)
            guard total >= count else { throw .invalid("total \(total) below count \(count)", offset: totalAt) }
            let expected = fragmentRange(index: index, count: count, totalBytes: total).count
            let available = bytes.count - r.offset
            guard available >= expected else { throw .truncated(offset: bytes.count) }
            guard available == expected else { throw .trailingBytes(offset: r.offset + expected) }
            return .fragment(Fragment(blastID: blastID, count: count, index: index, totalBytes: total,
                                      bytes: bytes[r.offset...]))
        case .nack:
            let nAt = r.offset
            let n = try r.int(limit: count)
            guard n >= 1 else { throw .invalid("NACK names no fragment", offset: nAt) }
            guard n <= bytes.count - r.offset else { throw .truncated(offset: bytes.count) }
            var missing: [Int] = []
            missing.reserveCapacity(n)
            for _ in 0..<n {
                let at = r.offset
                let index = try r.int(limit: count - 1)
                guard index > missing.last ?? -1 else { throw .invalid("NACK indices not increasing", offset: at) }
                missing.append(index)
            }
            guard r.offset == bytes.count else { throw .trailingBytes(offset: r.offset) }
            return .nack(Nack(blastID: blastID, count: count, missing: missing))
        }
    }

    /// A bounds-checked cursor over the input. Every read either succeeds or throws.
    private struct Reader {
        let bytes: [UInt8]
        var offset: Int

        mutating func varint() throws(BlastCodecError) -> UInt64 {
            let start = offset
            var result: UInt64 = 0
            for i in 0..<10 {
                guard offset < bytes.count else { throw .truncated(offset: offset) }
                let byte = bytes[offset]
                offset += 1
                let chunk = UInt64(byte & 0x7F)
                // The tenth byte holds bit 63 only.
                guard i < 9 || chunk <= 1 else { break }
                result |= chunk << (7 * i)
                if byte & 0x80 == 0 {
                    // Non-minimal encodings are refused so that every datagram has one encoding.
                    guard byte != 0 || i == 0 else { throw .invalid("non-minimal varint", offset: start) }
                    return result
                }
            }
            throw .invalid("varint overflows 64 bits", offset: start)
        }

        /// A varint that must not exceed `limit` (compared before converting, so nothing overflows).
        mutating func int(limit: Int) throws(BlastCodecError) -> Int {
            let start = offset
            let value = try varint()
            guard limit >= 0, value <= UInt64(limit) else {
                throw .tooLarge("value \(value) exceeds \(limit)", offset: start)
            }
            return Int(value)
        }
    }
}

/// Why a byte string is not a valid blast datagram. Offsets count from the datagram's first byte.
public enum BlastCodecError: Error, Hashable, Sendable, CustomStringConvertible {
    case truncated(offset: Int)
    case badMagic
    case unsupportedVersion(UInt8)
    case unknownKind(UInt8)
    case tooLarge(String, offset: Int)
    case invalid(String, offset: Int)
    case trailingBytes(offset: Int)

    public var description: String {
        switch self {
        case .truncated(let o): "truncated blast datagram (input ends at byte \(o))"
        case .badMagic: "not a blast datagram (bad magic)"
        case .unsupportedVersion(let v): "unsupported blast version \(v)"
        case .unknownKind(let k): "unknown blast datagram kind \(k)"
        case .tooLarge(let what, let o): "\(what) at byte \(o)"
        case .invalid(let what, let o): "\(what) at byte \(o)"
        case .trailingBytes(let o): "trailing bytes after the blast datagram at byte \(o)"
        }
    }
}
