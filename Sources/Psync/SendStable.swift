/// The `send_stable` library routine of Figure 6 (Section 3.2.2), written sans-I/O: a
/// "synchronous send" that returns once the sent message is stable, resending it when a wait
/// times out without stability. It works when a reply rather than the message is lost, because a
/// host that receives a resent copy of a message it has resends that message's successors.
///
/// Use: `start` sends the message and begins the first wait. Whenever the host reports
/// `.messageAvailable` or `.timedOut(.receive)` for this participant, call `step`; it drains the
/// outstanding messages (handing them back, since the application still wants them) and returns
/// `.success`, `.failure` after `limit` tries, or nil while it is still waiting.
public struct SendStable: Sendable {
    public enum Outcome: Sendable, Equatable { case success, failure }

    public let conversation: ConversationID
    public let participant: ParticipantID
    public let message: MessageID
    public let limit: Int
    public let timeoutNanoseconds: UInt64
    public private(set) var tries = 0

    public static func start(_ payload: [UInt8], on host: Host, in cid: ConversationID, as pid: ParticipantID,
                             now: Instant, limit: Int = 5, timeoutNanoseconds: UInt64) throws(PsyncError) -> SendStable {
        precondition(limit >= 1, "send_stable needs at least one try")
        let mid = try host.send(payload, in: cid, as: pid, now: now)
        let routine = SendStable(conversation: cid, participant: pid, message: mid, limit: limit, timeoutNanoseconds: timeoutNanoseconds)
        _ = try host.waitForMessage(cid, as: pid, now: now, timeoutNanoseconds: timeoutNanoseconds)
        return routine
    }

    /// One iteration of Figure 6's loop: receive what is outstanding, then succeed if the
    /// message is stable, or resend it and wait again.
    public mutating func step(on host: Host, now: Instant, received: inout [(MessageID, [UInt8])]) throws(PsyncError) -> Outcome? {
        while let m = try host.receive(conversation, as: participant) { received.append(m) }
        if try host.stable(message, in: conversation, as: participant) { return .success }
        tries += 1
        guard tries < limit else { return .failure }
        try host.resend(message, in: conversation, as: participant, now: now)
        _ = try host.waitForMessage(conversation, as: participant, now: now, timeoutNanoseconds: timeoutNanoseconds)
        return nil
    }
}
