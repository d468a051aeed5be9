import Psync

/// The acknowledgement rule of Figure 8: "if (!snd_something && rcv_something) send(ACK)".
/// Total-order filters need every participant to follow each message so that it becomes
/// stable; a participant with nothing to say acknowledges with an empty control message.
///
/// One refinement: receiving only ACKs (of any filter of the stack) does not call for an ACK, or
/// participants, and two acknowledging filters in one stack, would acknowledge each other's
/// acknowledgements forever once the application falls silent.
/// Nobody waits on an ACK's stability: an ACK is never delivered, and the messages that matter
/// become stable through the ACKs they provoke.
///
/// With a delay, the ACK is sent that long after the batch, and only if this participant has
/// sent nothing meanwhile (TCP's delayed acknowledgement): one ACK then covers a burst of
/// batches, and an application reply that comes soon enough makes it unnecessary.
///
/// A filter uses it from `batchEnded` (and, delayed, from `timerFired` with `timerToken`), and
/// skips its own ACKs when delivering (`isAck(_:of:)`), as `WavesFilter` does.
public struct Acknowledgement {
    /// An ACK's control body.
    public static let body: [UInt8] = [0x41]  // "A"
    /// The timer token filters use for a delayed ACK.
    public static let timerToken = -1

    public let delayNanoseconds: UInt64
    /// While a delayed ACK is scheduled: the participant's last message at the latest batch
    /// that called for one. If that is still the last message when the timer fires, nothing
    /// sent since follows that batch, and the ACK goes.
    private var pending: MessageID??

    public init(delayNanoseconds: UInt64 = 0) { self.delayNanoseconds = delayNanoseconds }

    /// Whether `m` is an ACK of any filter.
    public static func isAck(_ m: FilterMessage) -> Bool {
        if case .control(_, let body) = m.content { return body == Acknowledgement.body }
        return false
    }

    /// Whether `m` is an ACK of the filter named `filter`.
    public static func isAck(_ m: FilterMessage, of filter: String) -> Bool { m.isControl(of: filter) && isAck(m) }

    /// Sends an ACK at once for `filter` if the batch calls for one (Figure 8, no delay).
    public static func afterBatch(received: [FilterMessage], sentSomething: Bool, filter: OrderingFilter, _ context: FilterContext) {
        var immediate = Acknowledgement()
        immediate.afterBatch(received: received, sentSomething: sentSomething, filter: filter, context)
    }

    /// Sends (or schedules) an ACK for `filter` if the batch calls for one.
    public mutating func afterBatch(received: [FilterMessage], sentSomething: Bool, filter: OrderingFilter, _ context: FilterContext) {
        guard !sentSomething, received.contains(where: { !Self.isAck($0) }) else { return }
        guard delayNanoseconds > 0 else {
            context.sendControl(Self.body, from: filter)
            return
        }
        let scheduled = pending != nil
        pending = Optional(context.lastSent)
        if !scheduled { context.setTimer(after: delayNanoseconds, token: Self.timerToken, for: filter) }
    }

    /// The delayed ACK's timer fired: send it unless something was sent since it was scheduled.
    public mutating func timerFired(filter: OrderingFilter, _ context: FilterContext) {
        guard let scheduledAfter = pending else { return }
        pending = nil
        if context.lastSent == scheduledAfter { context.sendControl(Self.body, from: filter) }
    }
}
