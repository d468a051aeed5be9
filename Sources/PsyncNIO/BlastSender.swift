/// The sending half of the blast layer (Section 6.2): splits a datagram larger than one fragment into
/// numbered fragments and keeps them for a while to answer receivers' NACKs.
///
/// Sans-I/O: it never reads a clock or touches a socket. The shell passes `now` (nanoseconds of a
/// monotonic clock, never decreasing) and sends the returned datagrams.
///
/// One logical Psync packet often goes to several hosts (Section 6.2, host-specific addresses): the
/// shell calls `fragments(of:now:)` once and sends the same fragments to every destination, so the
/// blast id and the retained copy are shared, and a NACK from any destination is answered from it
/// (the answer goes to that destination only).
///
/// Retention is bounded by count, bytes and age; the oldest blast goes first. A NACK for a blast that
/// is no longer retained gets no answer: the receiver gives up after `maxNacks` and Psync's own
/// recovery (Section 3.2) asks for the message again, which the shell then sends as a new blast.
/// Expired blasts are released lazily, on the next call; the count and byte bounds hold at all times.
public struct BlastSender: Sendable {
    public let config: BlastConfig

    /// A retained blast: its encoded fragments, in index order.
    private struct Retained: Sendable {
        let blastID: UInt64
        let sentAt: UInt64
        let datagramBytes: Int
        let fragments: [[UInt8]]
    }

    /// Retained blasts in sending order. Ids are consecutive and blasts leave only from the front,
    /// so the blast with id `i` is at `i - retained[0].blastID`: O(1) lookup without a dictionary.
    private var retained: [Retained] = []
    private var nextBlastID: UInt64

    /// The number of blasts currently retained.
    public var retainedBlastCount: Int { retained.count }
    /// The datagram bytes currently retained (fragment payloads, without headers).
    public private(set) var retainedBytes = 0

    /// A sender retaining nothing yet. Traps if `config` is inconsistent.
    ///
    /// `firstBlastID` should differ between incarnations of a host (the shell can take it from its
    /// boot id or clock): a restarted sender that reused ids could otherwise complete a receiver's
    /// stale reassembly of the same id and count with bytes of two different datagrams.
    public init(config: BlastConfig = BlastConfig(), firstBlastID: UInt64) {
        config.validate()
        self.config = config
        self.nextBlastID = firstBlastID
    }

    /// The datagrams to send for `datagram`: the datagram itself if it fits one fragment (no header,
    /// nothing retained), otherwise the fragments of a new blast, which is retained for NACKs.
    /// O(datagram size); evicts the oldest retained blasts to stay within the bounds.
    public mutating func fragments(of datagram: [UInt8], now: UInt64) -> [[UInt8]] {
        guard datagram.count > config.fragmentBytes else { return [datagram] }
        precondition(datagram.count <= config.maxDatagramBytes,
                     "datagram of \(datagram.count) bytes exceeds maxDatagramBytes \(config.maxDatagramBytes)")
        let blastID = nextBlastID
        nextBlastID &+= 1
        let count = (datagram.count - 1) / config.fragmentBytes + 1
        let fragments = (0..<count).map { index in
            let range = BlastCodec.fragmentRange(index: index, count: count, totalBytes: datagram.count)
            return BlastCodec.encode(BlastCodec.Fragment(
                blastID: blastID, count: count, index: index, totalBytes: datagram.count, bytes: datagram[range]))
        }
        expire(now: now)
        while retained.count >= config.maxRetainedBlasts || retainedBytes + datagram.count > config.maxRetainedBytes {
            removeOldest()
        }
        retained.append(Retained(blastID: blastID, sentAt: now, datagramBytes: datagram.count, fragments: fragments))
        retainedBytes += datagram.count
        return fragments
    }

    /// The fragments that answer `nack`: exactly the missing ones it names, if the blast is still
    /// retained and the NACK's fragment count matches it; otherwise nothing. O(missing).
    public mutating func answer(_ nack: BlastCodec.Nack, now: UInt64) -> [[UInt8]] {
        expire(now: now)
        guard let first = retained.first else { return [] }
        let position = nack.blastID &- first.blastID
        guard position < UInt64(retained.count) else { return [] }
        let blast = retained[Int(position)]
        guard blast.fragments.count == nack.count else { return [] }
        return nack.missing.compactMap { blast.fragments.indices.contains($0) ? blast.fragments[$0] : nil }
    }

    private mutating func expire(now: UInt64) {
        while let first = retained.first, now >= first.sentAt, now - first.sentAt >= config.retentionNanoseconds {
            removeOldest()
        }
    }

    private mutating func removeOldest() {
        retainedBytes -= retained.removeFirst().datagramBytes
    }
}
