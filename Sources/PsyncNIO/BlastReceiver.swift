/// The receiving half of the blast layer (Section 6.2): reassembles fragments per (source, blast id),
/// asks for missing fragments with NACKs once a reassembly falls quiet, and tells Psync packets (which
/// pass through untouched) from blast datagrams.
///
/// Sans-I/O: the shell passes every datagram to `receive(_:from:now:)`, calls `timerFired(now:)` at
/// `nextDeadline`, and sends the NACKs it returns; `now` is nanoseconds of a monotonic clock.
///
/// Bounds (DESIGN.md: every queue is bounded; Section 3.3 discards past the bound and leaves recovery
/// to Section 3.2): at most `maxReassemblies` reassemblies, at most `maxReassemblyBytes` reserved
/// (each reassembly reserves its announced total when its first fragment arrives, so a peer cannot
/// make the receiver hold more than the bound by announcing large totals). When a new blast does not
/// fit, its fragment is refused (`BlastDrop.noRoom`) rather than evicting the oldest reassembly:
/// reassemblies in progress are the ones closest to completion, and each one ends within
/// `maxNacks` quiet periods of its last progress, so refusal lasts a bounded time; evicting instead
/// would let a burst of new blasts abandon every partial one and complete none (livelock). A refused
/// blast is not lost for good: its later fragments start a reassembly once there is room (which then
/// NACKs the earlier ones), and Psync's own recovery covers the rest.
public struct BlastReceiver<Source: Hashable & Sendable>: Sendable {
    public let config: BlastConfig

    /// What the shell does with a datagram.
    public enum Outcome: Sendable, Hashable {
        /// Not a blast datagram: hand it to the Psync engine as it is.
        case passthrough
        /// The last missing fragment arrived: hand the reassembled datagram to the engine.
        case complete([UInt8])
        /// A new fragment was stored; the blast is not complete yet.
        case incomplete
        /// A NACK arrived: pass it to the local `BlastSender.answer(_:now:)` and send the answer to
        /// the datagram's source.
        case nack(BlastCodec.Nack)
        /// The datagram was discarded (trace it).
        case dropped(BlastDrop)
    }

    /// A NACK datagram to send to `destination` (the source of the blast).
    public struct OutgoingNack: Sendable, Hashable {
        /// Where to send it: the source of the blast.
        public var destination: Source
        /// The encoded NACK, at most `fragmentBytes` long.
        public var datagram: [UInt8]
    }

    /// A reassembly given up after `maxNacks` unanswered NACKs (trace it; Psync's recovery takes over).
    public struct Abandoned: Sendable, Hashable {
        /// Who sent the blast.
        public var source: Source
        /// The blast given up.
        public var blastID: UInt64
        /// How many of its fragments never arrived.
        public var missingFragments: Int
        /// How many fragments it has.
        public var fragmentCount: Int
    }

    /// What a timer expiry produced: NACKs to send and reassemblies given up, in the order their
    /// blasts started (deterministic, whatever the hashing).
    public struct TimerResult: Sendable, Hashable {
        /// NACKs to send now.
        public var nacks: [OutgoingNack] = []
        /// Reassemblies given up (each is already forgotten; trace them).
        public var abandoned: [Abandoned] = []
    }

    private struct Key: Hashable, Sendable {
        let source: Source
        let blastID: UInt64
    }

    private struct Reassembly: Sendable {
        /// Creation order, for deterministic timer output.
        let serial: UInt64
        let count: Int
        var buffer: [UInt8]
        var received: [Bool]
        var receivedCount = 0
        /// When the last new fragment arrived or the last NACK went out.
        var quietSince: UInt64
        /// NACKs sent since the last new fragment.
        var unansweredNacks = 0

        init(serial: UInt64, count: Int, totalBytes: Int, now: UInt64) {
            self.serial = serial
            self.count = count
            self.buffer = [UInt8](repeating: 0, count: totalBytes)
            self.received = [Bool](repeating: false, count: count)
            self.quietSince = now
        }

        func deadline(delay: UInt64) -> UInt64 {
            let (sum, overflow) = quietSince.addingReportingOverflow(delay)
            return overflow ? .max : sum
        }

        /// Stores a new fragment; true when the blast is complete.
        mutating func store(_ fragment: BlastCodec.Fragment, now: UInt64) -> Bool {
            let range = BlastCodec.fragmentRange(index: fragment.index, count: count, totalBytes: buffer.count)
            buffer.replaceSubrange(range, with: fragment.bytes)
            received[fragment.index] = true
            receivedCount += 1
            quietSince = now
            unansweredNacks = 0
            return receivedCount == count
        }

        /// The NACK for the missing fragments, the lowest first, at most `maxIndices` of them
        /// (the rest are asked for in later rounds).
        mutating func nack(blastID: UInt64, maxIndices: Int, now: UInt64) -> BlastCodec.Nack {
            var missing: [Int] = []
            for index in received.indices where !received[index] {
                guard missing.count < maxIndices else { break }
                missing.append(index)
            }
            quietSince = now
            unansweredNacks += 1
            return BlastCodec.Nack(blastID: blastID, count: count, missing: missing)
        }
    }

    /// A fixed-capacity FIFO set of finished blasts: the oldest is forgotten first.
    private struct FinishedKeys: Sendable {
        let capacity: Int
        private var members: Set<Key> = []
        private var order: [Key] = []
        private var oldest = 0

        init(capacity: Int) { self.capacity = capacity }

        func contains(_ key: Key) -> Bool { members.contains(key) }

        mutating func insert(_ key: Key) {
            guard capacity > 0, !members.contains(key) else { return }
            if order.count < capacity {
                order.append(key)
            } else {
                members.remove(order[oldest])
                order[oldest] = key
                oldest = (oldest + 1) % capacity
            }
            members.insert(key)
        }
    }

    private var reassemblies: [Key: Reassembly] = [:]
    private var finished: FinishedKeys
    private var nextSerial: UInt64 = 0

    /// The number of reassemblies in progress.
    public var reassemblyCount: Int { reassemblies.count }
    /// The bytes reserved by reassemblies in progress (the sum of their announced totals).
    public private(set) var reservedBytes = 0

    /// A receiver with no reassembly in progress. Traps if `config` is inconsistent.
    public init(config: BlastConfig = BlastConfig()) {
        config.validate()
        self.config = config
        self.finished = FinishedKeys(capacity: config.rememberedFinishedBlasts)
    }

    /// Classifies and absorbs one datagram from `source`. Never traps on bad input: anything
    /// malformed, over the bounds, duplicated, late or inconsistent is `.dropped` with the reason.
    /// O(fragment size) for a fragment, O(NACK length) for a NACK.
    public mutating func receive(_ bytes: [UInt8], from source: Source, now: UInt64) -> Outcome {
        guard BlastCodec.isBlast(bytes) else { return .passthrough }
        let fragment: BlastCodec.Fragment
        do {
            switch try BlastCodec.decode(bytes, limits: config.limits) {
            case .nack(let nack): return .nack(nack)
            case .fragment(let decoded): fragment = decoded
            }
        } catch {
            return .dropped(.malformed(error))
        }
        let key = Key(source: source, blastID: fragment.blastID)
        guard !finished.contains(key) else { return .dropped(.late) }
        if let existing = reassemblies[key] {
            guard existing.count == fragment.count, existing.buffer.count == fragment.totalBytes else {
                return .dropped(.inconsistent)
            }
            guard !existing.received[fragment.index] else { return .dropped(.duplicate) }
        } else {
            guard reassemblies.count < config.maxReassemblies,
                  fragment.totalBytes <= config.maxReassemblyBytes - reservedBytes else { return .dropped(.noRoom) }
            reassemblies[key] = Reassembly(serial: nextSerial, count: fragment.count,
                                           totalBytes: fragment.totalBytes, now: now)
            nextSerial += 1
            reservedBytes += fragment.totalBytes
        }
        guard reassemblies[key]!.store(fragment, now: now) else { return .incomplete }
        return .complete(finish(key).buffer)
    }

    /// The earliest time at which `timerFired(now:)` has work (a reassembly quiet for
    /// `nackDelayNanoseconds`), or nil when nothing is in progress. O(reassemblies).
    public var nextDeadline: UInt64? {
        reassemblies.values.map { $0.deadline(delay: config.nackDelayNanoseconds) }.min()
    }

    /// NACKs for every reassembly quiet since `nackDelayNanoseconds`, listing only missing indices
    /// (bounded so the NACK fits in `fragmentBytes`); a reassembly whose last `maxNacks` NACKs went
    /// unanswered is abandoned instead. O(reassemblies + fragments of the due ones).
    public mutating func timerFired(now: UInt64) -> TimerResult {
        let delay = config.nackDelayNanoseconds
        let due = reassemblies.compactMap { key, r in now >= r.deadline(delay: delay) ? (key, r.serial) : nil }
            .sorted { $0.1 < $1.1 }
        var result = TimerResult()
        for (key, _) in due {
            if reassemblies[key]!.unansweredNacks >= config.maxNacks {
                let r = finish(key)
                result.abandoned.append(Abandoned(source: key.source, blastID: key.blastID,
                                                  missingFragments: r.count - r.receivedCount, fragmentCount: r.count))
            } else {
                let count = reassemblies[key]!.count
                let maxIndices = (config.fragmentBytes - BlastCodec.maxNackHeaderBytes)
                    / BlastCodec.varintBytes(UInt64(count - 1))
                let nack = reassemblies[key]!.nack(blastID: key.blastID, maxIndices: maxIndices, now: now)
                result.nacks.append(OutgoingNack(destination: key.source, datagram: BlastCodec.encode(nack)))
            }
        }
        return result
    }

    /// Ends a reassembly (complete or abandoned): releases its reservation and remembers the blast
    /// so that its late fragments are dropped.
    private mutating func finish(_ key: Key) -> Reassembly {
        let r = reassemblies.removeValue(forKey: key)!
        reservedBytes -= r.buffer.count
        finished.insert(key)
        return r
    }
}

/// Why the blast layer discarded a datagram.
public enum BlastDrop: Hashable, Sendable, CustomStringConvertible {
    /// Not a valid blast datagram, or beyond the decoder's bounds (fragment count, total length).
    case malformed(BlastCodecError)
    /// A fragment already held by its reassembly.
    case duplicate
    /// A fragment of a blast already completed or abandoned (among the remembered ones).
    case late
    /// A fragment whose count or total length differs from earlier fragments of the same blast.
    case inconsistent
    /// A fragment that would start a reassembly beyond `maxReassemblies` or `maxReassemblyBytes`.
    case noRoom

    public var description: String {
        switch self {
        case .malformed(let error): "malformed blast datagram: \(error)"
        case .duplicate: "duplicate fragment"
        case .late: "fragment of a finished blast"
        case .inconsistent: "fragment inconsistent with its blast"
        case .noRoom: "no room for a new reassembly"
        }
    }
}
