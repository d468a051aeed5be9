import Psync

/// The delivery end of a filter that decides an order from the graph (waves, depth-first):
/// messages are queued in the decided order and handed up as the layer below makes them
/// available. A filter's own ACKs, and control messages consumed by filters below, are ordered
/// but skipped; anything else waits at the head of the queue until it has been input.
struct OrderedDelivery {
    private var queue: [FilterMessage] = []
    private var head = 0
    private var inputs: Set<MessageID> = []

    mutating func input(_ m: FilterMessage) { inputs.insert(m.id) }

    mutating func enqueue(_ m: FilterMessage) { queue.append(m) }

    mutating func deliverReady(from filter: OrderingFilter, _ context: FilterContext) {
        while head < queue.count {
            let m = queue[head]
            if !Acknowledgement.isAck(m, of: filter.name) && !context.isConsumedBelow(m, filter) {
                guard inputs.remove(m.id) != nil else { break }
                context.deliver(m, from: filter)
            }
            head += 1
        }
        if head > 1024 && head * 2 > queue.count {
            queue.removeFirst(head)
            head = 0
        }
    }
}
