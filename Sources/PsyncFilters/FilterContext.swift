import Psync
import PsyncTrace

/// What a filter sees of, and does to, one participant's conversation: the view queries of
/// Section 2, sending, masking (Section 3.2.4), timers and trace records. Owned by a
/// `FilterStack`; a filter is handed it in every call.
public final class FilterContext {
    public let host: Host
    public let conversation: ConversationID
    public let participant: ParticipantID
    /// The conversation's participant list; `me` is this participant's position in it.
    public let participants: [ParticipantID]
    public let me: ParticipantIndex
    /// The instant of the current call.
    public internal(set) var now: Instant
    /// The participants whose acknowledgements stability waits for, as agreed by a membership
    /// filter (Section 3.2.4); every participant by default. `isAgreedStable` uses it.
    public var agreed: [Bool]
    /// While true, nothing this participant sends reaches Psync (a membership filter mutes a
    /// participant that has been removed, Section 3.2.4, until it is readmitted).
    public var muted = false
    /// Which messages a total-order filter may put in what it commits, as a membership filter
    /// decides it (Section 3.2.4; nil: every message). A participant removed while partitioned
    /// may keep sending until it learns of its removal; those messages must be left out of the
    /// order by every survivor alike, whenever each learns of the removal (`Admission`).
    public var admission: ((MessageID) -> Admission)?
    /// This participant's most recent message, whoever sent it (application or filter).
    public internal(set) var lastSent: MessageID?
    unowned var stack: FilterStack!

    init(host: Host, conversation: ConversationID, participant: ParticipantID, now: Instant) throws(PsyncError) {
        self.host = host
        self.conversation = conversation
        self.participant = participant
        participants = try host.participants(conversation)
        guard let me = participants.firstIndex(of: participant) else { throw .notLocalParticipant(participant, conversation) }
        self.me = me
        self.now = now
        agreed = Array(repeating: true, count: participants.count)
    }

    // MARK: The view (Section 2). Queries about messages outside the view answer "no" or empty.

    public func contains(_ m: MessageID) -> Bool { (try? host.contains(m, in: conversation, as: participant)) ?? false }
    public func next(_ m: MessageID) -> [MessageID] { (try? host.next(m, in: conversation, as: participant)) ?? [] }
    public func prev(_ m: MessageID) -> [MessageID] { (try? host.prev(m, in: conversation, as: participant)) ?? [] }
    public var leaves: [MessageID] { (try? host.leaves(conversation, as: participant)) ?? [] }
    public var outstanding: Bool { (try? host.outstanding(conversation, as: participant)) ?? false }
    public func stable(_ m: MessageID) -> Bool { (try? host.stable(m, in: conversation, as: participant)) ?? false }
    public func nStable(_ m: MessageID) -> Int { (try? host.nStable(m, in: conversation, as: participant)) ?? 0 }
    public func followers(_ m: MessageID) -> [ParticipantIndex] { (try? host.followers(m, in: conversation, as: participant)) ?? [] }
    public func precedes(_ a: MessageID, _ b: MessageID) -> Bool { (try? host.precedes(a, b, in: conversation, as: participant)) ?? false }
    public func sender(_ m: MessageID) -> ParticipantID { participants[m.senderIndex] }
    /// How many of each sender's messages the view holds: the whole view, as a prefix (what a
    /// filter that queries no node returns from `releasedHistory`).
    public var viewFrontier: [UInt32] { (try? host.viewFrontier(conversation, as: participant)) ?? [] }

    /// Stable over the agreed participant set: every agreed participant other than the sender
    /// has a message in the view that follows `m`.
    public func isAgreedStable(_ m: MessageID) -> Bool {
        guard contains(m) else { return false }
        let following = followers(m)
        var acked = agreed
        for q in following { acked[q] = false }
        acked[m.senderIndex] = false
        return !acked.contains(true)
    }

    /// Whether a total-order filter may order `m` now (`admission`).
    public func admits(_ m: MessageID) -> Admission { admission?(m) ?? .admitted }

    /// The message `m` of the view, with its content unframed.
    public func message(_ m: MessageID) -> FilterMessage? {
        guard let payload = try? host.payload(m, in: conversation, as: participant) else { return nil }
        return FilterMessage(id: m, sender: sender(m), content: FilterMessage.unframe(payload))
    }

    // MARK: Acting

    /// Hands `m` to the layer above `filter` (or to the application), in `filter`'s order.
    public func deliver(_ m: FilterMessage, from filter: OrderingFilter) { stack.deliver(m, from: filter) }

    /// Passes an application payload down from `filter` (to the filter below, or to Psync).
    /// False if a filter below refused it.
    @discardableResult
    public func send(_ payload: [UInt8], from filter: OrderingFilter) -> Bool { stack.send(payload, below: filter) }

    /// Sends a control message of `filter` at once (no filter holds control messages).
    @discardableResult
    public func sendControl(_ body: [UInt8], from filter: OrderingFilter) -> MessageID? {
        stack.sendToPsync(.control(filter: filter.name, body: body))
    }

    /// Section 3.2.2's `resend` of one of this participant's messages: hosts that have it
    /// answer with its successors; hosts that discard it (having masked this participant out)
    /// answer with what lies beyond its context.
    public func resend(_ m: MessageID) { _ = try? host.resend(m, in: conversation, as: participant, now: now); stack.drainHostEffects() }

    public func maskOut(_ target: ParticipantID) { try? host.maskOut(target, in: conversation, as: participant); stack.drainHostEffects() }
    public func maskIn(_ target: ParticipantID) { try? host.maskIn(target, in: conversation, as: participant); stack.drainHostEffects() }

    /// Calls `filter.timerFired(token)` after `nanoseconds`.
    public func setTimer(after nanoseconds: UInt64, token: Int, for filter: OrderingFilter) {
        stack.setTimer(now.adding(nanoseconds: nanoseconds), token: token, for: filter)
    }

    /// Whether `m` is a control message of a filter below `filter`: it is consumed there and
    /// will never be input to `filter`.
    public func isConsumedBelow(_ m: FilterMessage, _ filter: OrderingFilter) -> Bool {
        stack.isConsumedBelow(m, filter)
    }

    /// Records a trace event of `filter`'s own kind (`wave`, `commit`, `vote`, ...), if tracing.
    public func record(_ kind: String, from filter: OrderingFilter, _ fields: @autoclosure () -> [(String, JSONValue)]) {
        stack.record(kind, filter: filter.name, fields())
    }
}

/// A membership filter's answer about one message (`FilterContext.admission`).
public enum Admission: Sendable {
    /// Order it as usual.
    case admitted
    /// Its sender is suspected and it may come after the cut of its removal: commit nothing that
    /// would include it until that is known.
    case pending
    /// Its sender was removed and it comes after the removal's cut: never order it; it counts as
    /// settled, so that messages of others that followed it can be ordered.
    case excluded
}
