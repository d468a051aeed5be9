import Psync
import PsyncTrace

/// Total order by a depth-first traversal of the context graph (Section 4.2, footnote 3: "an
/// alternative is to do a depth first traversal, in which case the entire disjoint branch of the
/// context graph rooted at each node in the wave is committed in order").
///
/// The traversal starts at the root and keeps a stack. It commits the node on top, then, to go
/// deeper, needs that node's children to be final. A child of x sent by r has x as an immediate
/// predecessor, so it comes before r's first message that follows x by another path; once the
/// view holds, from every participant, a message that follows x — stability (over
/// `context.agreed`) for the others, and the sender's own next message for the sender, which
/// stability does not cover — every child of x that will ever exist is already in the view.
/// So the traversal waits for that, then pushes the children whose predecessors are all
/// committed, in reverse order of their ids so the smallest is visited first. A child
/// with several parents is pushed by the last one committed: each branch is committed whole
/// before the next, and every participant commits the same sequence, which depends only on G.
///
/// Compared with waves it commits a node without waiting for its whole wave, but goes deeper
/// only past stable nodes: latency differs by workload, which is the point of having both.
///
/// It does not promise that everything is delivered once a run falls quiet. The traversal
/// must expand every node it reaches, ACKs included, and the last messages of a run are never
/// followed by everyone (nobody acknowledges an acknowledgement, or ACKs would never stop, and a
/// participant that has finished sends nothing after its own last message): when the traversal
/// reaches such a node it waits there, and branches still on the stack wait with it. Every
/// participant stops at the same node, so the sequences stay equal.
public final class DepthFirstFilter: OrderingFilter {
    public let name = "depth-first"
    public let guarantees: Set<FilterGuarantee> = [.causal, .totalOrder]
    private var committed: [UInt32] = []
    private var stack: [MessageID] = []
    private var expanding: MessageID?
    private var begun = false
    private var delivery = OrderedDelivery()
    private var acknowledgement: Acknowledgement
    public private(set) var commits = 0

    /// `ackDelayNanoseconds`: 0 acknowledges at once, as Figure 8 does; see `Acknowledgement`.
    public init(ackDelayNanoseconds: UInt64 = 0) { acknowledgement = Acknowledgement(delayNanoseconds: ackDelayNanoseconds) }

    public func start(_ context: FilterContext) {
        committed = Array(repeating: 0, count: context.participants.count)
    }

    public func viewGrew(_ message: FilterMessage, _ context: FilterContext) { delivery.viewGrew(message) }

    public func input(_ message: FilterMessage, _ context: FilterContext) { delivery.input(message) }

    /// Section 3.3: the filter queries uncommitted messages and the successors of the message it
    /// is expanding, the newest committed one.
    public func releasedHistory(_ context: FilterContext) -> [UInt32] {
        var released = committed
        if let x = expanding { released[x.senderIndex] = x.sequence - 1 }
        return released
    }

    public func update(_ context: FilterContext) {
        if !begun && context.contains(.root) {
            begun = true
            stack = [.root]
        }
        while true {
            if let x = expanding {
                let sendersNext = MessageID(sender: x.senderIndex, sequence: x.sequence + 1)
                guard context.isAgreedStable(x), context.contains(sendersNext) else { break }
                expanding = nil
                let children = context.next(x).filter { c in
                    c.sequence > committed[c.senderIndex] && !stack.contains(c)
                        && context.prev(c).allSatisfy { $0.sequence <= committed[$0.senderIndex] }
                }
                stack.append(contentsOf: children.sorted(by: >))
            }
            guard let x = stack.popLast() else { break }
            committed[x.senderIndex] = x.sequence
            commits += 1
            context.record("commit", from: self, [("mid", .string(x.description)), ("commit", .uint(UInt64(commits)))])
            delivery.enqueue(x)
            expanding = x
        }
        delivery.deliverReady(from: self, context)
    }

    public func batchEnded(received: [FilterMessage], sentSomething: Bool, _ context: FilterContext) {
        acknowledgement.afterBatch(received: received, sentSomething: sentSomething, filter: self, context)
    }

    public func timerFired(_ token: Int, _ context: FilterContext) {
        if token == Acknowledgement.timerToken { acknowledgement.timerFired(filter: self, context) }
    }
}
