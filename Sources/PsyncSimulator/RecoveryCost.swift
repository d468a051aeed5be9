import Psync

/// What recovery cost in one simulated run, in the units issue reports and papers use: packets
/// per data message, and packets beyond the loss-free minimum per packet the network lost.
///
/// The loss-free minimum is one copy of every message (data, acknowledgement or filter control)
/// and of every application `resend` to each other participant. Everything else (requests,
/// digests, retransmitted messages, duplicates of answers) is *extra*, and dividing it by the
/// packets lost says how much recovery traffic one loss costs.
public struct RecoveryCost: Sendable, Equatable {
    public var dataMessages: Int
    public var packets: Int
    public var packetsLost: Int
    public var minimumPackets: Int
    public var requests: Int
    public var digests: Int
    public var retransmissions: Int
    public var discards: Int
    public var converged: Bool
    public var quiescenceNanoseconds: UInt64

    public init(_ r: SimulationResult) {
        let receivers = max(0, r.config.participants - 1)
        dataMessages = r.dataSent
        packets = r.network.packetsSent
        packetsLost = r.network.lost
        minimumPackets = (r.total(\.messagesSent) + r.total(\.resends)) * receivers
        requests = r.total(\.retransmitRequestsSent)
        digests = r.total(\.digestsSent)
        retransmissions = r.total(\.retransmittedMessages)
        discards = r.drops[.discardedAfterFailedRequest] ?? 0
        converged = r.converged
        quiescenceNanoseconds = r.quiescenceNanoseconds
    }

    public var extraPackets: Int { packets - minimumPackets }
}

extension Sequence where Element == RecoveryCost {
    /// Totals over several runs (sums; converged if every run did; the largest quiescence time).
    public var total: RecoveryCost? {
        reduce(nil) { sum, c in
            guard var s = sum else { return c }
            s.dataMessages += c.dataMessages
            s.packets += c.packets
            s.packetsLost += c.packetsLost
            s.minimumPackets += c.minimumPackets
            s.requests += c.requests
            s.digests += c.digests
            s.retransmissions += c.retransmissions
            s.discards += c.discards
            s.converged = s.converged && c.converged
            s.quiescenceNanoseconds = Swift.max(s.quiescenceNanoseconds, c.quiescenceNanoseconds)
            return s
        }
    }
}
