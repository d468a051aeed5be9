import Psync

/// The knobs of the blast layer (Section 6.2: Psync sends large messages through "an underlying
/// blast protocol ... encapsulated as a distinct protocol rather than embedded in Psync").
///
/// A Psync packet can carry up to 1 MiB of payload (`WireCodec.Limits.maxPayloadBytes`), far more
/// than one UDP datagram. The blast layer splits such a packet into fragments, the receiver
/// reassembles them and asks (NACK) for the ones it is missing, and the sender answers from a bounded
/// retention buffer. Anything the blast layer cannot repair is left to Psync's own recovery
/// (Section 3.2): a lost packet is just a lost packet to the engine.
///
/// Sender and receiver read the same configuration; all hosts of a deployment should share it (a
/// receiver refuses fragment counts and sizes beyond its own bounds).
public struct BlastConfig: Sendable, Hashable {
    /// The largest fragment, in bytes of the original datagram; datagrams of at most this size pass
    /// through without any blast header. Default 8192.
    ///
    /// Why 8192: a fragment datagram is then at most 8192 + 21 header bytes + 28 IP/UDP bytes, which
    /// fits one 9000-byte jumbo frame and is far below loopback's 65536-byte MTU, so on those links
    /// the blast fragment is the only fragmentation. On a 1500-byte Ethernet the kernel splits it in
    /// six IP fragments, and losing one loses the blast fragment; that costs at most 8 KiB of resend,
    /// while a 1400-byte fragment would make a 1 MiB packet 750 datagrams (750 sends per destination
    /// and long NACK lists). 8192 makes it 128 fragments, and every NACK for it fits one datagram.
    public var fragmentBytes: Int

    /// The largest datagram the blast layer carries (the reassembled size). Default: Psync's payload
    /// limit plus 64 KiB for the packet header (at most 1024 participants or predecessors of at
    /// most 10 bytes each, so about 10 KiB, with room to spare). A receiver refuses larger totals.
    public var maxDatagramBytes: Int

    /// The largest fragment count a receiver accepts. Default 1024: the default datagram limit needs
    /// 136 fragments of 8192 bytes, and 1024 still admits a peer configured with fragments of
    /// about 1 KiB. The sender requires `maxDatagramBytes` to fit in this many fragments.
    public var maxFragmentCount: Int

    /// How long the sender keeps a blast to answer NACKs. Default 1 s: far longer than a receiver
    /// keeps asking after its last progress (`maxNacks` x `nackDelayNanoseconds` = 40 ms), so a
    /// receiver normally stops before the sender forgets; memory is bounded by the two limits below,
    /// not by this time.
    public var retentionNanoseconds: UInt64

    /// The most blasts the sender retains; the oldest is evicted first. Default 64.
    public var maxRetainedBlasts: Int

    /// The most datagram bytes the sender retains; the oldest blast is evicted first. Default 16 MiB
    /// (sixteen maximal packets). Must be at least `maxDatagramBytes`.
    public var maxRetainedBytes: Int

    /// How long a reassembly must be quiet (no new fragment, no NACK sent) before the receiver sends
    /// a NACK. Default 5 ms: the fragments of a blast arrive back to back (128 x 8 KiB take about 8 ms
    /// at 1 Gb/s, microseconds apart), so 5 ms of silence means the stream has stopped, not paused.
    /// It should exceed the round trip plus the sender's scheduling delay, or NACKs repeat before
    /// their answers arrive (a shell on a wide-area link should raise it).
    public var nackDelayNanoseconds: UInt64

    /// How many NACKs in a row may go unanswered (no new fragment arrives between them) before the
    /// receiver abandons the reassembly. Default 8: at 30% loss of NACKs the chance of giving up on a
    /// live sender is 0.3^8, below 1e-4, and a dead sender is given up about 45 ms after its last
    /// fragment; from then on Psync's own recovery asks for the message again.
    public var maxNacks: Int

    /// The most reassemblies in progress at a receiver. Default 64.
    public var maxReassemblies: Int

    /// The most bytes reserved by reassemblies in progress (each reserves its announced total length
    /// when its first fragment arrives). Default 16 MiB. Must be at least `maxDatagramBytes`.
    public var maxReassemblyBytes: Int

    /// How many finished (completed or abandoned) blasts a receiver remembers, so that a late or
    /// duplicated fragment is dropped instead of starting a reassembly that would NACK the whole blast
    /// again. Default 1024 (a few bytes each).
    public var rememberedFinishedBlasts: Int

    /// The defaults suit a LAN or loopback; see each property for the reasoning.
    public init(
        fragmentBytes: Int = 8192,
        maxDatagramBytes: Int = WireCodec.Limits().maxPayloadBytes + (1 << 16),
        maxFragmentCount: Int = 1024,
        retentionNanoseconds: UInt64 = 1_000_000_000,
        maxRetainedBlasts: Int = 64,
        maxRetainedBytes: Int = 16 << 20,
        nackDelayNanoseconds: UInt64 = 5_000_000,
        maxNacks: Int = 8,
        maxReassemblies: Int = 64,
        maxReassemblyBytes: Int = 16 << 20,
        rememberedFinishedBlasts: Int = 1024
    ) {
        self.fragmentBytes = fragmentBytes
        self.maxDatagramBytes = maxDatagramBytes
        self.maxFragmentCount = maxFragmentCount
        self.retentionNanoseconds = retentionNanoseconds
        self.maxRetainedBlasts = maxRetainedBlasts
        self.maxRetainedBytes = maxRetainedBytes
        self.nackDelayNanoseconds = nackDelayNanoseconds
        self.maxNacks = maxNacks
        self.maxReassemblies = maxReassemblies
        self.maxReassemblyBytes = maxReassemblyBytes
        self.rememberedFinishedBlasts = rememberedFinishedBlasts
    }

    /// The decoder's bounds: what a receiver with this configuration accepts.
    public var limits: BlastCodec.Limits {
        BlastCodec.Limits(maxFragmentCount: maxFragmentCount, maxDatagramBytes: maxDatagramBytes)
    }

    /// Checks the relations between the knobs; a violation is a programmer error.
    func validate() {
        precondition(fragmentBytes >= BlastCodec.maxNackHeaderBytes + 10,
                     "fragmentBytes must leave room for a NACK header and one index")
        precondition(maxDatagramBytes > fragmentBytes, "maxDatagramBytes must exceed fragmentBytes")
        precondition(maxFragmentCount >= 2, "maxFragmentCount must be at least 2")
        precondition((maxDatagramBytes - 1) / fragmentBytes + 1 <= maxFragmentCount,
                     "maxDatagramBytes must fit in maxFragmentCount fragments of fragmentBytes")
        precondition(maxRetainedBlasts >= 1, "maxRetainedBlasts must be at least 1")
        precondition(maxRetainedBytes >= maxDatagramBytes, "maxRetainedBytes must hold one maximal datagram")
        precondition(maxNacks >= 0, "maxNacks must not be negative")
        precondition(maxReassemblies >= 1, "maxReassemblies must be at least 1")
        precondition(maxReassemblyBytes >= maxDatagramBytes, "maxReassemblyBytes must hold one maximal datagram")
        precondition(rememberedFinishedBlasts >= 0, "rememberedFinishedBlasts must not be negative")
    }
}
