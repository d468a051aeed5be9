import Psync

/// The delivery end of a filter that decides an order from the graph (waves, depth-first):
/// messages are queued in the decided order and handed up as the layer below makes them
/// available. A filter's own ACKs, and control messages consumed by filters below, are ordered
/// but skipped; anything else waits at the head of the queue until it has been input.
///
/// Contents are kept from the moment a message enters the view (`viewGrew`) until its turn:
/// Section 3.3 frees a message's buffer in the image once it is stable everywhere, which may
/// happen before the order reaches it.
///
/// A filter calls `viewGrew` and `input` from its own, `enqueue` as it decides the order, and
/// `deliverReady` from `update`.
public struct OrderedDelivery {
    public init() {}
    private var queue: [MessageID] = []
    private var head = 0
    private var contents: [MessageID: FilterMessage] = [:]
    private var inputs: Set<MessageID> = []

    public mutating func viewGrew(_ m: FilterMessage) { contents[m.id] = m }

    public mutating func input(_ m: FilterMessage) { inputs.insert(m.id) }

    /// Whether `m`, not yet delivered, will be skipped rather than delivered: an ACK of `filter`
    /// or a control message a filter below consumes (its content is kept even where the image
    /// freed it).
    public func skips(_ m: MessageID, by filter: OrderingFilter, _ context: FilterContext) -> Bool {
        guard let message = contents[m] ?? context.message(m) else { return false }
        return Self.skips(message, by: filter, context)
    }

    static func skips(_ m: FilterMessage, by filter: OrderingFilter, _ context: FilterContext) -> Bool {
        Acknowledgement.isAck(m, of: filter.name) || context.isConsumedBelow(m, filter)
    }

    public mutating func enqueue(_ m: MessageID) { queue.append(m) }

    /// `m` will never be ordered (`Admission.excluded`): its content and input are let go.
    public mutating func forget(_ m: MessageID) {
        contents[m] = nil
        inputs.remove(m)
    }

    public mutating func deliverReady(from filter: OrderingFilter, _ context: FilterContext) {
        while head < queue.count {
            // A message that entered the view before the stack existed is read from the image.
            guard let m = contents[queue[head]] ?? context.message(queue[head]) else {
                preconditionFailure("\(filter.name) ordered \(queue[head]), whose content is gone")
            }
            if !Self.skips(m, by: filter, context) {
                guard inputs.remove(m.id) != nil else { break }
                context.deliver(m, from: filter)
            }
            contents[m.id] = nil
            head += 1
        }
        if head > 1024 && head * 2 > queue.count {
            queue.removeFirst(head)
            head = 0
        }
    }
}
