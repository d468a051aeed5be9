/// The acknowledgement rule of Figure 8: "if (!snd_something && rcv_something) send(ACK)".
/// Total-order filters need every participant to follow each message so that it becomes
/// stable; a participant with nothing to say acknowledges with an empty control message.
///
/// One refinement: receiving only ACKs does not call for an ACK, or participants would
/// acknowledge each other's acknowledgements forever once the application falls silent.
/// Nobody waits on an ACK's stability: an ACK is never delivered, and the messages that matter
/// become stable through the ACKs they provoke.
struct Acknowledgement {
    static let body: [UInt8] = [0x41]  // "A"

    static func isAck(_ m: FilterMessage, of filter: String) -> Bool {
        if case .control(let f, let body) = m.content { return f == filter && body == Acknowledgement.body }
        return false
    }

    /// Sends an ACK for `filter` if the batch calls for one.
    static func afterBatch(received: [FilterMessage], sentSomething: Bool, filter: OrderingFilter, _ context: FilterContext) {
        guard !sentSomething, received.contains(where: { !isAck($0, of: filter.name) }) else { return }
        context.sendControl(body, from: filter)
    }
}
