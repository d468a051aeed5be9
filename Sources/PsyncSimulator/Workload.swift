import Psync
import PsyncFilters
import PsyncTrace

/// The scripted application that runs on every simulated participant, so that an experiment
/// needs no hand-written driver.
///
/// Each participant sends `messagesPerParticipant` data messages: participant 0 opens the
/// conversation and sends its first message at time zero; every participant sends at
/// exponentially distributed intervals after it has opened, and may reply at once (in the
/// context of what it just received) with `replyProbability`. Once its budget is spent, a
/// participant acknowledges received data with an ACK message, as Figure 8 does ("if
/// !snd_something && rcv_something send(ACK)"), and works around the last-ACK problem
/// (Section 3.2.2) in the spirit of `send_stable`: `settleTimeoutNanoseconds` after data last
/// entered its view, it checks that every data message there is stable, and resends one that is
/// not (the hosts that have it answer with its successors, the replies and acknowledgements
/// lost on the way), at most `settleAttempts` times. Without
/// loss nothing is resent: acknowledgements, which nobody answers, are never watched. With a
/// filter stack, data is an application message with a data payload; under the paper's
/// recovery rule the participant also repeats its last message, of any kind, until it is
/// stable: filters' control messages are answered by nobody, and without tail recovery only
/// their sender can make up for their loss (see `Simulator+Settling.swift`).
/// Payloads: byte 0 tells data from acknowledgements, byte 1 marks the operation as commutative
/// (`a`) or not (`b`, with probability `betaFraction`), the rest is deterministic filler.
public struct Workload: Codable, Sendable, Equatable {
    public var messagesPerParticipant: Int
    public var meanIntervalNanoseconds: UInt64
    public var replyProbability: Double
    public var payloadBytes: Int
    public var acknowledges: Bool
    public var settleTimeoutNanoseconds: UInt64
    public var settleAttempts: Int
    /// Fraction of data messages marked as non-commutative operations (byte 1 of the payload is
    /// `b`; otherwise `a`), for replicated-object filters (Section 4.3).
    public var betaFraction: Double
    /// nil: participants send independently, as above. `.ring`: token passing around the
    /// participants in list order (Section 6's Table 2): participant 0 sends first, and each
    /// participant sends its next data message when its predecessor's arrives (the interval and
    /// reply probability are not used). The data messages form one causal chain whatever the
    /// timing, so every total order of them is the same in every run, simulated or real.
    /// `.replicated`: a replicated state machine (`ReplicatedRegisters`) over a total-order
    /// stack: each participant sends its first command once something is delivered to it and
    /// its next once its previous one is delivered back (one outstanding command each), and
    /// applies every delivered command; no application acknowledgements (the stack's suffice).
    /// What it sends follows from what it is delivered alone, the paper's condition for
    /// re-execution (Section 5.2), and the checkers compare the replicas at the end.
    public var pattern: Pattern?

    public enum Pattern: String, Codable, Sendable { case ring, replicated }

    public init(messagesPerParticipant: Int = 10, meanIntervalNanoseconds: UInt64 = 10_000_000,
                replyProbability: Double = 0, payloadBytes: Int = 32, acknowledges: Bool = true,
                settleTimeoutNanoseconds: UInt64 = 200_000_000, settleAttempts: Int = 12, betaFraction: Double = 0,
                pattern: Pattern? = nil) {
        self.messagesPerParticipant = messagesPerParticipant
        self.meanIntervalNanoseconds = meanIntervalNanoseconds
        self.replyProbability = replyProbability
        self.payloadBytes = payloadBytes
        self.acknowledges = acknowledges
        self.settleTimeoutNanoseconds = settleTimeoutNanoseconds
        self.settleAttempts = settleAttempts
        self.betaFraction = betaFraction
        self.pattern = pattern
    }

    /// What a participant's application does on receiving data from `senders` (positions),
    /// with `budgetLeft` or not, as the simulator and a real node both run it: send data (a
    /// reply, or the ring's token), acknowledge (Figure 8, once the budget is spent), or nothing.
    /// Draws from `rng` only where the independent pattern replies at random. `sentData`: the
    /// participant has sent data already.
    public func response(to senders: [ParticipantIndex], at i: ParticipantIndex, of n: Int, budgetLeft: Bool,
                         sentData: Bool = true, _ rng: inout SplitMix64) -> PayloadKind? {
        guard !senders.isEmpty else { return nil }
        if budgetLeft {
            switch pattern {
            case .ring: return senders.contains((i + n - 1) % n) ? .data : nil
            case .replicated: return !sentData || senders.contains(i) ? .data : nil
            case nil: return rng.nextUnit() < replyProbability ? .data : nil
            }
        }
        return acknowledges && pattern != .replicated ? .ack : nil
    }

    /// The first payload byte tells data from acknowledgements; the second is the operation
    /// kind, `a` (commutative) or `b`.
    public enum PayloadKind: UInt8 { case data = 0, ack = 1 }

    /// What a message of the scripted application carries, for trace records and statistics.
    public enum Content: String, Sendable { case data, ack, control }

    /// The content of `payload`, sent by the scripted application (`framed`: through a filter
    /// stack, whose control messages are framed apart from application payloads).
    public static func content(of payload: [UInt8], framed: Bool) -> Content {
        let application: [UInt8]
        if framed {
            guard case .application(let bytes) = FilterMessage.unframe(payload) else { return .control }
            application = bytes
        } else {
            application = payload
        }
        return isData(application) ? .data : .ack
    }

    /// Whether a workload payload is data (not an acknowledgement).
    public static func isData(_ payload: [UInt8]) -> Bool { payload.first == PayloadKind.data.rawValue }

    /// The time to a participant's next scheduled send: exponential with the configured mean.
    public func nextInterval(_ rng: inout SplitMix64) -> UInt64 {
        DelayDistribution.exponential(baseNanoseconds: 0, meanNanoseconds: meanIntervalNanoseconds).sample(&rng)
    }

    /// The trace record of an engine event of `host`, running this workload: a send record
    /// also says what the message carries (the simulator's and the UDP node's traces alike).
    public static func traceKind(_ e: EngineEvent, on host: Host, framed: Bool) -> TraceEvent.Kind {
        guard case .send(let c, let p, let m, let preds, let bytes) = e, let payload = try? host.payload(m, in: c, as: p)
        else { return TraceEvent.Kind(e) }
        return .send(c, p, m, predecessors: preds, payloadBytes: bytes, content: content(of: payload, framed: framed).rawValue)
    }

    /// The replicated workload's command: data, non-commutative (`b`), a digest of the
    /// sender's state (8 bytes, big-endian), then filler up to `payloadBytes`. The digest is of
    /// the state right after the sender's previous command (or the first command) was applied:
    /// a point of the total order, not of how deliveries were batched.
    public func command(participant: Int, number: Int, digest d: UInt64) -> [UInt8] {
        var bytes = [PayloadKind.data.rawValue, UInt8(ascii: "b")]
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: d >> UInt64(shift))) }
        let filler = payload(.data, participant: participant, number: number, beta: true)
        if filler.count > bytes.count { bytes += filler[bytes.count...] }
        return bytes
    }

    /// The payload of participant `participant`'s `number`th message of `kind` (from 0).
    public func payload(_ kind: PayloadKind, participant: Int, number: Int, beta: Bool) -> [UInt8] {
        var bytes = [kind.rawValue, beta ? UInt8(ascii: "b") : UInt8(ascii: "a")]
        var x = UInt64(participant) << 32 | UInt64(number)
        while bytes.count < max(1, payloadBytes) {
            x = x &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            bytes.append(UInt8(truncatingIfNeeded: x >> 56))
        }
        return bytes
    }
}
