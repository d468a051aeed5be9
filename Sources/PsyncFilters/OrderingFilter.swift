import Psync
import PsyncTrace

/// An ordering policy stacked on a participant's view of a conversation (Section 4: policies
/// are "filters placed on top of Psync"). Psync keeps the mechanism (the context graph); a filter
/// decides in what order messages reach the layer above.
///
/// A filter sees the view through its `FilterContext` (next, prev, leaves, stable, nStable,
/// followers, precedes, outstanding, sender), is told of every message that enters the view,
/// receives the messages the layer below delivers (`input`; for the lowest filter, the view's
/// receive order), may send control messages of its own, and hands messages to the layer above
/// with `context.deliver(_:from:)`, in its own order. The same code runs in the simulator, over a
/// real network, and in offline replay: it never sees a clock except `context.now`.
///
/// Only `name`, `guarantees` and `update` are required; see `CausalFilter` for the smallest one.
public protocol OrderingFilter: AnyObject {
    /// The name used on the command line (`--filter NAME`) and in traces.
    var name: String { get }
    /// What the filter promises; the checkers hold it to these promises.
    var guarantees: Set<FilterGuarantee> { get }
    /// The conversation is open; the filter may send (a handshake's first message, say).
    func start(_ context: FilterContext)
    /// A message entered the view (received, or sent by this participant), in view order.
    /// Every filter sees every message, the control messages of other filters included.
    func viewGrew(_ message: FilterMessage, _ context: FilterContext)
    /// The layer below delivered `message`: application data, and the control messages of this
    /// filter and of the filters above it (those of filters below are consumed there). A filter
    /// consumes its own control messages: it never delivers them up.
    func input(_ message: FilterMessage, _ context: FilterContext)
    /// The view or the input changed: deliver what can be delivered now.
    func update(_ context: FilterContext)
    /// A batch of receives is over (Figure 8's loop): `received` came in, and this participant
    /// sent something since the last batch or not.
    func batchEnded(received: [FilterMessage], sentSomething: Bool, _ context: FilterContext)
    /// The layer above wants to send `payload`; pass it down with `context.send`, hold it, or
    /// refuse it (return false).
    func send(_ payload: [UInt8], _ context: FilterContext) -> Bool
    /// A timer set with `context.setTimer` fired.
    func timerFired(_ token: Int, _ context: FilterContext)
    /// Section 3.3: the prefix of the view (per sender, how many of its messages) whose nodes
    /// this filter will never query again with `next`, `prev` or `precedes` (stability queries
    /// need no node). Under the threshold Θ the host reclaims nothing beyond it. The default,
    /// nothing, is always safe: a filter that needs history beyond Θ says so by keeping it.
    func releasedHistory(_ context: FilterContext) -> [UInt32]
    /// Section 5.1: `participant` restarted (its host sent an RS): the out-of-band notice on
    /// which a join protocol starts (a membership filter re-admits it, say).
    func participantRestarted(_ participant: ParticipantID, _ context: FilterContext)
    /// Why this filter cannot keep its promises above `below` (the stack under it, bottom
    /// first) in a conversation of `participants`, or nil. Asked before a run, so that a stack
    /// that cannot work is refused with the reason instead of failing its checks (a quorum
    /// larger than the conversation, a filter that needs a total order below it). Default: nil.
    func problem(below: [OrderingFilter], participants: Int) -> String?
}

extension OrderingFilter {
    public func problem(below: [OrderingFilter], participants: Int) -> String? { nil }
    public func start(_ context: FilterContext) {}
    public func viewGrew(_ message: FilterMessage, _ context: FilterContext) {}
    /// By default a filter keeps what it is given and decides in `update`.
    public func input(_ message: FilterMessage, _ context: FilterContext) {}
    public func batchEnded(received: [FilterMessage], sentSomething: Bool, _ context: FilterContext) {}
    public func send(_ payload: [UInt8], _ context: FilterContext) -> Bool { context.send(payload, from: self) }
    public func timerFired(_ token: Int, _ context: FilterContext) {}
    public func releasedHistory(_ context: FilterContext) -> [UInt32] { [] }
    public func participantRestarted(_ participant: ParticipantID, _ context: FilterContext) {}
}

/// Promises a filter makes about what it delivers.
public enum FilterGuarantee: Hashable, Sendable {
    /// No message is delivered before its predecessors.
    case causal
    /// Every participant delivers the same sequence (one a prefix of the other while running).
    case totalOrder
    /// Nothing is delivered before `n` participants have it in their context (n-stable); nil
    /// stands for a majority of the participants.
    case quorum(Int?)
    /// Once the run is quiet, every application message in every running image has been
    /// delivered at every running participant.
    case complete

    /// What the promise says, under crashes and partitions too (`psync filters` prints it, and
    /// the checkers hold filters to exactly this).
    public var statement: String {
        switch self {
        case .causal:
            "causal: no message is delivered before its predecessors, whatever fails"
        case .totalOrder:
            "total order: every participant delivers the same sequence, one a prefix of another while running and the "
                + "same at the end; a crashed participant's without the messages that vanished with it; a participant "
                + "membership removed: a prefix of the others'"
        case .quorum(let n):
            "quorum: nothing is delivered before \(n.map { "\($0)" } ?? "a majority of the") participants hold it in "
                + "context; with fewer running or reachable, delivery waits"
        case .complete:
            "complete: once the run is quiet, every application message of every running image is delivered at every "
                + "running participant, if no participant crashed or membership removed those that did (stability and "
                + "quorums wait for a crashed one), and no partition lasts to the end"
        }
    }
}

/// A message as filters see it.
public struct FilterMessage: Sendable, Equatable {
    public var id: MessageID
    public var sender: ParticipantID
    public var content: Content

    public enum Content: Sendable, Equatable {
        /// Data from the application.
        case application([UInt8])
        /// A control message of the filter named `filter` (an ACK, a vote, a handshake step).
        case control(filter: String, body: [UInt8])

        /// Whether this is an application payload (not a filter's control message).
        public var isApplication: Bool { if case .application = self { true } else { false } }
    }

    public init(id: MessageID, sender: ParticipantID, content: Content) {
        self.id = id
        self.sender = sender
        self.content = content
    }

    public func isControl(of filter: String) -> Bool {
        if case .control(let f, _) = content { return f == filter }
        return false
    }

    public var isApplication: Bool { content.isApplication }

    /// How a filtered conversation frames payloads: a tag byte (0: application, 1: control),
    /// and for control the filter's name (length-prefixed) before the body. Every participant of
    /// a filtered conversation must use the framing.
    public static func frame(_ content: Content) -> [UInt8] {
        switch content {
        case .application(let data):
            return [0] + data
        case .control(let filter, let body):
            let name = Array(filter.utf8.prefix(255))
            return [1, UInt8(name.count)] + name + body
        }
    }

    /// The inverse of `frame`. Malformed framing reads as application data (kept, not lost).
    public static func unframe(_ payload: [UInt8]) -> Content {
        if payload.first == 1, payload.count >= 2, payload.count >= 2 + Int(payload[1]) {
            let n = Int(payload[1])
            return .control(filter: String(decoding: payload[2..<2 + n], as: UTF8.self), body: Array(payload[(2 + n)...]))
        }
        return .application(payload.first == 0 ? Array(payload.dropFirst()) : payload)
    }
}
