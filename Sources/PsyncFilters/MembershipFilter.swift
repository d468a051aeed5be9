import Psync
import PsyncTrace

/// Conversation-wide delete and join (Sections 3.2.4 and 5), built on `maskOut`/`maskIn`.
///
/// It sits above a filter that orders everything in one total order (`waves,membership`): it
/// needs the total order to place membership changes, and acts on the view below it. Depth-first
/// does not qualify: its traversal waits at a node for that sender's next message, which a
/// removed participant never sends the survivors, so they would deliver less than the
/// participant they removed (seen after partitions: the removed one delivered 12 messages, the
/// survivors 2).
///
/// - Suspicion is local (Section 3.2.4: "each participant determines on its own"): a message
///   that every agreed participant but q has followed for `suspicionTimeoutNanoseconds` makes
///   this participant suspect q and say so with a SUSPECT(q) control message.
/// - Agreement: once the view holds SUSPECT(q) from every other participant still in the
///   conversation, and they are a majority of it (so two sides of a partition can never both
///   remove the other: a conversation of two cannot remove anyone), q is certainly being removed. Every survivor then stops waiting for q's
///   acknowledgements (`context.agreed`) and masks q out, so that messages become stable again
///   and q's late messages are discarded. q's messages that any survivor saw before suspecting q
///   precede that survivor's SUSPECT, so every survivor has them: all survivors hold the same q
///   messages, and the total order below stays the same everywhere (it depends only on the graph;
///   the agreed set only decides when a wave may commit, and removing a crashed participant from
///   it is safe once its messages are final).
/// - The cut: a participant cut off by a partition is not crashed, and may keep sending (and,
///   the partition healed, be heard) until it learns of its removal. Its messages that precede
///   some SUSPECT of it are the cut, the same set at every survivor (they all hold every
///   SUSPECT); the total order below admits its messages up to the cut only (`Admission`).
///   Before it knows whether q will be removed, a participant that suspected q holds any wave
///   with a message of q it got after suspecting, unless another participant followed that
///   message before suspecting q (then it is in the cut if q is ever removed): so no survivor
///   orders a message of q that another survivor leaves out. (The order filter need not wait
///   for what it never delivers, such as its own acknowledgements: see `WavesFilter`.)
/// - The removal takes effect in the total order right after the last SUSPECT(q): the same
///   position at every participant. It is reported as a `remove` trace event and in `changes`.
/// - Join: any participant may propose READMIT(q) (`proposeReadmit`); where it falls in the
///   total order, every participant masks q back in and waits for its acknowledgements again.
///   A removed participant mutes itself (sends nothing, not even ACKs) from the moment it sees its
///   removal certified until its readmission, so that the survivors never need a message of its
///   that they discarded. A readmitted participant must not have sent after its removal's cut.
/// - Section 5.1's restart notice starts the join: when a removed participant restarts, the
///   member with the lowest position proposes its readmission (one proposal, not one per member).
public final class MembershipFilter: OrderingFilter {
    public let name = "membership"
    /// It passes the total order of the filter below through; whether everything is delivered
    /// at the end is that filter's promise, not this one's.
    public let guarantees: Set<FilterGuarantee> = [.causal, .totalOrder]
    public let suspicionTimeoutNanoseconds: UInt64
    public let checkIntervalNanoseconds: UInt64

    /// Membership changes in the order they took effect, with the number of messages this filter
    /// had delivered at that point.
    public private(set) var changes: [Change] = []
    /// Participants removed at the current point of the total order.
    public private(set) var removed: Set<ParticipantIndex> = []

    public struct Change: Equatable, Sendable {
        public enum Kind: String, Sendable { case remove, readmit }
        public var kind: Kind
        public var target: ParticipantID
        public var position: Int
    }

    private var suspicionsOrdered: [ParticipantIndex: Set<ParticipantIndex>] = [:]
    private var certified: Set<ParticipantIndex> = []
    private var suspected: Set<ParticipantIndex> = []
    /// Per suspected q, per participant, the SUSPECT(q) it sent (this participant's included):
    /// who suspects q as the view shows it, and where.
    private var suspicionMessages: [ParticipantIndex: [ParticipantIndex: MessageID]] = [:]
    /// Per removed q, its last message in the cut; and where it rejoined, if it did.
    private var cuts: [ParticipantIndex: UInt32] = [:]
    private var rejoinedAt: [ParticipantIndex: UInt32] = [:]
    /// Messages not yet followed by every agreed participant, oldest first, with when they came.
    private var watched: [(MessageID, Instant)] = []
    private var timerArmed = false
    /// When this participant next resends its SUSPECT while its suspicion is not agreed, and
    /// the interval after that (`probeIfCutOff`).
    private var probe: (at: Instant, interval: UInt64)?
    private var upward: [FilterMessage] = []
    private var delivered = 0

    /// Membership changes are placed in the total order below; without one, participants would
    /// apply them at different points and their deliveries would disagree.
    public func problem(below: [OrderingFilter], participants: Int) -> String? {
        guard !below.contains(where: { $0.guarantees.isSuperset(of: [.totalOrder, .complete]) }) else { return nil }
        return "membership needs a filter below it that orders everything in one total order (waves,membership): "
            + "depth-first waits at a removed participant's last message for its next one, which never comes"
    }

    public init(suspicionTimeoutNanoseconds: UInt64 = 400_000_000, checkIntervalNanoseconds: UInt64 = 100_000_000) {
        self.suspicionTimeoutNanoseconds = suspicionTimeoutNanoseconds
        self.checkIntervalNanoseconds = checkIntervalNanoseconds
    }

    enum Control {
        /// "I suspect q"; "let q join again"; "I (q) am back", which follows everything the
        /// rejoined participant has, so the others see it acknowledge at once.
        case suspect(ParticipantIndex), readmit(ParticipantIndex), rejoined(ParticipantIndex)

        var body: [UInt8] {
            let (tag, q): (UInt8, ParticipantIndex) = switch self {
            case .suspect(let q): (UInt8(ascii: "S"), q)
            case .readmit(let q): (UInt8(ascii: "R"), q)
            case .rejoined(let q): (UInt8(ascii: "J"), q)
            }
            var body = ControlBody(tag: tag)
            body.append(UInt32(q))
            return body.bytes
        }

        init?(_ m: FilterMessage, filter: String) {
            guard case .control(let f, let bytes) = m.content, f == filter else { return nil }
            var reader = ControlBody.Reader(bytes)
            guard let q = reader.uint32().map(Int.init), reader.isAtEnd else { return nil }
            switch reader.tag {
            case UInt8(ascii: "S"): self = .suspect(q)
            case UInt8(ascii: "R"): self = .readmit(q)
            case UInt8(ascii: "J"): self = .rejoined(q)
            default: return nil
            }
        }
    }

    /// Proposes that `target`, removed earlier, join again (Section 5's join protocol).
    public func proposeReadmit(_ target: ParticipantID, _ context: FilterContext) {
        guard let q = context.participants.firstIndex(of: target) else { return }
        context.sendControl(Control.readmit(q).body, from: self)
    }

    public func start(_ context: FilterContext) {
        context.admission = { [unowned self, unowned context] m in admission(m, context) }
    }

    /// Whether the total order below may order `m` (see "The cut" above).
    func admission(_ m: MessageID, _ context: FilterContext) -> Admission {
        let q = m.senderIndex
        if let cut = cuts[q] {
            if m.sequence <= cut { return .admitted }
            if let back = rejoinedAt[q], m.sequence >= back { return .admitted }
            return .excluded
        }
        guard let mine = suspicionMessages[q]?[context.me], !context.precedes(m, mine), removable(context) else { return .admitted }
        return vouched(m, context) ? .admitted : .pending
    }

    /// Whether another participant followed `m` before it suspected m's sender, or without
    /// suspecting it: then m is in the cut if its sender is ever removed (that participant's
    /// SUSPECT, needed for the removal, follows m).
    private func vouched(_ m: MessageID, _ context: FilterContext) -> Bool {
        let q = m.senderIndex
        for r in context.followers(m) where r != q && !certified.contains(r) {
            guard let theirs = suspicionMessages[q]?[r] else { return true }
            if context.precedes(m, theirs) { return true }
        }
        return false
    }

    /// Whether `m` is in the order the others deliver: one of this participant's own messages
    /// is once it is in the cut of this participant's removal, or, not removed, once vouched
    /// for (or when no removal is possible).
    private func isCertain(_ m: MessageID, _ context: FilterContext) -> Bool {
        guard m.senderIndex == context.me else { return true }
        if let cut = cuts[context.me] { return m.sequence <= cut || rejoinedAt[context.me].map { m.sequence >= $0 } == true }
        return !removable(context) || vouched(m, context)
    }

    /// Whether a removal can still be certified: a majority of the members besides the suspect
    /// takes at least three members (`agree`). With two, suspicions never remove anyone, so
    /// they hold nothing back.
    private func removable(_ context: FilterContext) -> Bool { context.participants.count - certified.count >= 3 }

    public func send(_ payload: [UInt8], _ context: FilterContext) -> Bool {
        context.muted ? false : context.send(payload, from: self)
    }

    /// Section 5.1: "this notification usually results in the local participant returning the
    /// recovering participant to its active participant set ... or an application-level join
    /// protocol": a removed participant that restarted is proposed for readmission by the
    /// lowest-positioned member that is not removed.
    public func participantRestarted(_ participant: ParticipantID, _ context: FilterContext) {
        guard let q = context.participants.firstIndex(of: participant), removed.contains(q), !context.muted,
              context.participants.indices.first(where: { !removed.contains($0) }) == context.me else { return }
        proposeReadmit(participant, context)
    }

    public func viewGrew(_ message: FilterMessage, _ context: FilterContext) {
        switch Control(message, filter: name) {
        case .suspect(let q)?:
            if suspicionMessages[q]?[message.id.senderIndex] == nil { suspicionMessages[q, default: [:]][message.id.senderIndex] = message.id }
            certifyIfAgreed(q, context)
        case .rejoined(let q)?:
            rejoinedAt[q] = message.id.sequence
        default:
            break
        }
        guard !Acknowledgement.isAck(message) else { return }
        watched.append((message.id, context.now))
        armTimer(context)
    }

    /// Every participant still in the conversation but q suspects q: q's removal is certain.
    private func certifyIfAgreed(_ q: ParticipantIndex, _ context: FilterContext) {
        guard !certified.contains(q) else { return }
        let others = Set(context.participants.indices).subtracting(certified).subtracting([q])
        guard Self.agree(others, Set(suspicionMessages[q, default: [:]].keys)) else { return }
        certified.insert(q)
        cuts[q] = cut(of: q, context)
        rejoinedAt[q] = nil
        context.agreed[q] = false
        if q == context.me { context.muted = true } else { context.maskOut(context.participants[q]) }
        context.record("certified", from: self, [("target", .string(context.participants[q].description))])
        // One fewer member to agree: a suspicion that waited for the removed participant's
        // SUSPECT (a crashed one never sends it) may now be agreed.
        for other in suspicionMessages.keys.sorted() where other != q { certifyIfAgreed(other, context) }
    }

    /// q's last message that precedes some SUSPECT(q) (all are in the view when q is certified).
    /// A sender's messages form a chain, so those before a given message are a prefix: found by
    /// bisection.
    private func cut(of q: ParticipantIndex, _ context: FilterContext) -> UInt32 {
        let frontier = context.viewFrontier[q]
        var cut: UInt32 = 0
        for s in (suspicionMessages[q] ?? [:]).values {
            var low = cut, high = frontier  // low precedes s (or is 0), high + 1 does not
            while low < high {
                let mid = low + (high - low + 1) / 2
                if context.precedes(MessageID(sender: q, sequence: mid), s) { low = mid } else { high = mid - 1 }
            }
            cut = low
        }
        return cut
    }

    public func timerFired(_ token: Int, _ context: FilterContext) {
        timerArmed = false
        // Forget messages every agreed participant has followed.
        while let (m, _) = watched.first, Self.awaited(m, context).isEmpty { watched.removeFirst() }
        // A removed participant suspects no one: it watches nothing, and its timer stops.
        if context.muted { watched.removeAll() }
        if let (m, since) = watched.first, context.now.nanoseconds - since.nanoseconds >= suspicionTimeoutNanoseconds, !context.muted {
            for q in Self.awaited(m, context) where q != context.me && !suspected.contains(q) {
                suspected.insert(q)
                context.record("suspect", from: self, [("target", .string(context.participants[q].description)),
                                                       ("because", .string(m.description))])
                if let mine = context.sendControl(Control.suspect(q).body, from: self) {
                    suspicionMessages[q, default: [:]][context.me] = mine
                }
            }
        }
        probeIfCutOff(context)
        armTimer(context)
    }

    /// A participant whose suspicion is not agreed may be the one cut off: the others may have
    /// removed it and, masking it out, neither send it digests nor take its messages, so after
    /// the partition heals nobody would speak first and it would never learn its removal. It
    /// resends its SUSPECT a suspicion timeout after sending it, then at doubling intervals (at
    /// most 64 timeouts apart); a host that masked it out answers the resend with what lies
    /// beyond it (Section 3.2.2, `ConversationImage.answerMaskedResend`), and it learns how the
    /// conversation went on. On the side that removes, suspicions are agreed within a timeout
    /// and no resend goes out.
    private func probeIfCutOff(_ context: FilterContext) {
        let unagreed = suspected.subtracting(certified)
        guard !context.muted, let q = unagreed.min(), let mine = suspicionMessages[q]?[context.me] else { probe = nil; return }
        guard let p = probe else {
            probe = (context.now.adding(nanoseconds: suspicionTimeoutNanoseconds), suspicionTimeoutNanoseconds)
            return
        }
        guard p.at <= context.now else { return }
        context.resend(mine)
        let next = min(p.interval * 2, 64 * suspicionTimeoutNanoseconds)
        probe = (context.now.adding(nanoseconds: next), next)
    }

    /// Whether `others` (the members but the suspect) all suspect it, and are a majority of the
    /// members (`others` plus the suspect).
    private static func agree(_ others: Set<ParticipantIndex>, _ suspecting: Set<ParticipantIndex>) -> Bool {
        others.isSubset(of: suspecting) && others.count * 2 > others.count + 1
    }

    /// Agreed participants, other than its sender, that have not followed `m` yet.
    private static func awaited(_ m: MessageID, _ context: FilterContext) -> [ParticipantIndex] {
        let followers = Set(context.followers(m))
        return context.participants.indices.filter { q in
            q != m.senderIndex && context.agreed[q] && !followers.contains(q)
        }
    }

    private func armTimer(_ context: FilterContext) {
        guard !timerArmed, !watched.isEmpty else { return }
        timerArmed = true
        context.setTimer(after: checkIntervalNanoseconds, token: 0, for: self)
    }

    public func input(_ message: FilterMessage, _ context: FilterContext) {
        guard let control = Control(message, filter: name) else {
            if !message.isControl(of: name) { upward.append(message) }
            return
        }
        switch control {
        case .suspect(let q):
            suspicionsOrdered[q, default: []].insert(message.id.senderIndex)
            let others = Set(context.participants.indices).subtracting(removed).subtracting([q])
            if !removed.contains(q) && Self.agree(others, suspicionsOrdered[q, default: []]) {
                removed.insert(q)
                change(.remove, q, context)
            }
        case .readmit(let q):
            guard removed.contains(q) else { return }
            removed.remove(q)
            suspicionsOrdered[q] = nil
            suspicionMessages[q] = nil
            certified.remove(q)
            suspected.remove(q)
            context.agreed[q] = true
            change(.readmit, q, context)
            if q == context.me {
                context.muted = false
                context.sendControl(Control.rejoined(q).body, from: self)
            } else {
                context.maskIn(context.participants[q])
            }
        case .rejoined:
            break
        }
    }

    private func change(_ kind: Change.Kind, _ q: ParticipantIndex, _ context: FilterContext) {
        let c = Change(kind: kind, target: context.participants[q], position: delivered + upward.count)
        changes.append(c)
        context.record(kind.rawValue, from: self, [("target", .string(c.target.description)), ("position", .uint(UInt64(c.position)))])
    }

    /// Section 3.3: asks only about stability, which needs no node, so Θ may reclaim anything.
    public func releasedHistory(_ context: FilterContext) -> [UInt32] { context.viewFrontier }

    /// Delivers the total order below as far as its messages are stable over the agreed set.
    /// A participant cut off in a minority cannot know that the others are removing it, nor
    /// which of its messages they will discard: a message every agreed participant has followed
    /// is in all their images, so a removed participant that delivers only such messages
    /// delivers a prefix of what the survivors deliver (its first message they discarded is
    /// never stable, and it stops there). The cost is latency: a delivery waits for the
    /// acknowledgements of every member, not for the wave's commit. Nor can it know whether the
    /// others will leave its own late messages out of the order (past its removal's cut): one
    /// of its own messages is delivered only once another participant vouches for it (followed
    /// it before suspecting it), which stability gives at once when no one suspects it.
    public func update(_ context: FilterContext) {
        var n = 0
        while n < upward.count, context.isAgreedStable(upward[n].id), isCertain(upward[n].id, context) {
            context.deliver(upward[n], from: self)
            n += 1
        }
        delivered += n
        upward.removeFirst(n)
    }
}
