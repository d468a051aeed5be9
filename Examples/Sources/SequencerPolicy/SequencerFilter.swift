import Psync
import PsyncFilters

/// Fixed-sequencer total order, written as the paper says policies are written: a filter on top
/// of Psync (Section 4, "filters placed on top of Psync"). Psync keeps the mechanism, the
/// context graph; this filter only decides in what order its messages reach the layer above.
///
/// The first participant of the conversation (`context.participants[0]`) is the sequencer.
/// Every message the layer below hands it (its own included: a participant's own messages are
/// input too) takes the next place in one conversation-wide sequence, which the sequencer
/// announces in *order messages*, control messages of this filter listing message ids in order.
/// Every participant, the sequencer too, delivers in exactly that sequence, each message once it
/// has both its place and its content. One sequence for everybody: total order. The sequencer's
/// input order is Psync's receive order, which respects context (Section 2), so the sequence does
/// too: causal order. (Above another filter, that filter's order must be causal.)
///
/// An order message is sent in the context of the messages it names (they are in the
/// sequencer's view when it speaks), so Psync hands it to the others after those messages; and
/// Psync's recovery brings every message, order messages included, to every running host, so
/// everything is delivered once a run is quiet: complete.
///
/// No acknowledgements (Figure 8, `Acknowledgement`): waves commit a message once it is stable,
/// and stability needs every participant to follow it, hence ACKs from those with nothing to say.
/// Here nothing waits for stability, only for the sequencer's word, which travels like any
/// message. The price is the sequencer's: every message waits for its order message, and
/// if the sequencer fails, delivery stops.
public class SequencerFilter: OrderingFilter {
    public let name: String
    public let guarantees: Set<FilterGuarantee> = [.causal, .totalOrder, .complete]

    /// The first byte of an order message's body.
    static let orderTag = UInt8(ascii: "O")
    /// At most this many ids per order message (8 bytes each), far below Psync's payload limit.
    static let idsPerOrder = 1024

    /// The sequence announced so far, and the place of the next message to deliver.
    private var order: [MessageID] = []
    private var next = 0
    /// Messages input and not yet delivered: they wait for their turn.
    private var waiting: [MessageID: FilterMessage] = [:]
    /// At the sequencer: messages input and not yet announced, and whether one of them is more
    /// than an acknowledgement (see `announce`).
    private var unannounced: [MessageID] = []
    private var mustAnnounce = false
    /// Per sender, the highest sequence number announced. A sender's messages are chained by
    /// context, so a causal input order announces them in sequence order: an order message that
    /// names one again, or out of turn, is malformed.
    private var announced: [UInt32] = []

    public convenience init() { self.init(name: "sequencer") }

    init(name: String) { self.name = name }

    public func start(_ context: FilterContext) {
        announced = Array(repeating: 0, count: context.participants.count)
    }

    public func input(_ message: FilterMessage, _ context: FilterContext) {
        // Our own control messages are consumed here, never delivered up.
        if message.isControl(of: name) { return readOrder(message) }
        waiting[message.id] = message
        if context.me == 0 {
            unannounced.append(message.id)
            if !Acknowledgement.isAck(message) { mustAnnounce = true }
        }
    }

    public func update(_ context: FilterContext) {
        if mustAnnounce { announce(context) }
        while next < order.count, let m = waiting.removeValue(forKey: order[next]) {
            next += 1
            deliverInTurn(m, context)
        }
        if next > 1024 && next * 2 > order.count {
            order.removeFirst(next)
            next = 0
        }
    }

    /// At the sequencer: sends the order of what it was given since it last spoke. The order
    /// message comes back to it as input, like everyone's, and it delivers from there.
    ///
    /// Only acknowledgements (Figure 8's, of a filter stacked above) wait for something more to
    /// announce: that filter acknowledges an order message as it does any message, and if that
    /// acknowledgement were announced at once, it would acknowledge the new order message, and so
    /// on forever (`Acknowledgement` does not answer ACKs for the same reason).
    private func announce(_ context: FilterContext) {
        for start in stride(from: 0, to: unannounced.count, by: Self.idsPerOrder) {
            var body = ControlBody(tag: Self.orderTag)
            for m in unannounced[start..<min(start + Self.idsPerOrder, unannounced.count)] { body.append(m) }
            context.sendControl(body.bytes, from: self)
        }
        unannounced.removeAll()
        mustAnnounce = false
    }

    /// Section 3.3: this filter queries no node of the graph (contents come with `input`), so the
    /// threshold Θ may reclaim anything, as under `CausalFilter`.
    public func releasedHistory(_ context: FilterContext) -> [UInt32] { context.viewFrontier }

    /// Hands `m` up in its turn. (The one step `EagerSequencerFilter` changes.)
    func deliverInTurn(_ m: FilterMessage, _ context: FilterContext) {
        context.deliver(m, from: self)
    }

    /// Takes in an order message: the sequencer's only, and only a well-formed one. Control
    /// bodies come from the network; a malformed one is ignored whole, never trusted in part.
    private func readOrder(_ message: FilterMessage) {
        guard message.id.senderIndex == 0, case .control(_, let body) = message.content else { return }
        var reader = ControlBody.Reader(body)
        guard reader.tag == Self.orderTag else { return }
        var ids: [MessageID] = [], high = announced
        while !reader.isAtEnd {
            guard let m = reader.messageID(), m.senderIndex < high.count, m.sequence > high[m.senderIndex] else { return }
            high[m.senderIndex] = m.sequence
            ids.append(m)
        }
        order += ids
        announced = high
    }
}
