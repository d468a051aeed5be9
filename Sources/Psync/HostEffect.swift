/// What the engine asks its shell to do, and what it reports. The shell (simulator or UDP
/// runtime) interprets effects; the engine itself never touches a socket or a clock.
public enum HostEffect: Sendable, Equatable {
    /// Send `packet` to each of `destinations`.
    case transmit(Packet, to: [HostID])
    /// Call `handle(.timer(id), now:)` at `deadline`. Setting a timer replaces any earlier
    /// deadline for the same id; the engine ignores timers that fire when nothing is due.
    case setTimer(TimerID, deadline: Instant)
    /// A `passiveOpen` that was waiting has completed.
    case opened(ConversationID, ParticipantID)
    /// A `waitForMessage` has completed: `receive` will now return a message.
    case messageAvailable(ConversationID, ParticipantID)
    /// A send that failed with `PsyncError.wouldBlock` may now succeed: enough of this host's
    /// messages are settled, held by every host not masked out (Section 3.3 flow control), or
    /// a restarted host caught up. Also when a re-executing participant's own next old message
    /// arrived in the image (Section 5.2): what it sends next is suppressed, and a filter stack
    /// replays its old control messages from there.
    case sendable(ConversationID, ParticipantID)
    /// Section 5.1: participant `restarted` of the conversation restarted (its host sent an
    /// RS); `ParticipantID` is the local participant told of it, "an out-of-band control
    /// message", typically answered by `maskIn` or a join protocol.
    case restarted(ConversationID, ParticipantID, restarted: ParticipantID)
    /// A wait expired before it completed (Section 3.2.2: blocking operations take a timeout).
    case timedOut(TimerID)
    /// Something happened that a trace records. Only when `HostConfig.reportsEvents` is on.
    case event(EngineEvent)
}

/// The timers a host may ask for: one per held message (`RecoveryPolicy.paper`) or one for the
/// gaps and one for the digests of each image (`.gaps`), and one per waiting operation.
public enum TimerID: Hashable, Sendable {
    case hold(ConversationID, MessageID)
    case recovery(ConversationID)
    case digest(ConversationID)
    case orphan(ConversationID)
    case passiveOpen(ParticipantID)
    case receive(ConversationID, ParticipantID)
}

/// What a shell gives the engine.
public enum HostInput: Sendable {
    case packet(Packet, from: HostID)
    /// Raw bytes off the network: decoded with the host's wire limits, malformed input dropped.
    case datagram([UInt8], from: HostID)
    case timer(TimerID)
}

/// Facts the engine reports as it works; the trace library records them.
public enum EngineEvent: Sendable, Equatable {
    /// A local participant opened a conversation, actively or passively (Section 2).
    case open(ConversationID, ParticipantID, participants: [ParticipantID], active: Bool)
    /// A local participant sent a message (Section 2); it is attached to the image at once.
    case send(ConversationID, ParticipantID, MessageID, predecessors: [MessageID], payloadBytes: Int)
    /// A message from another host was attached to the host's image (Section 3.1.3).
    case arrive(ConversationID, MessageID, predecessors: [MessageID])
    /// A message was put in the holding queue, waiting for `missing`.
    case hold(ConversationID, MessageID, missing: [MessageID])
    /// A held message was released into the image (its `arrive` follows).
    case release(ConversationID, MessageID)
    /// A retransmission request was sent (to the source host, or broadcast) (`.paper`).
    case retransmitRequested(RetransmitRequest, to: [HostID], broadcast: Bool)
    /// A frontier request (gap request or digest) was sent, and why (`.gaps`).
    case frontierRequested(FrontierRequest, to: [HostID], reason: RequestReason)
    /// A retransmission request or digest was answered with `messages`; `cut` if the batch
    /// limit cut the answer short.
    case retransmitAnswered(ConversationID, requester: HostID, messages: [MessageID], cut: Bool)
    /// Digest rounds went unanswered `digestAttempts` times: tail recovery stops until the image
    /// grows or the peers speak (they are suspected of having failed).
    case digestsStopped(ConversationID, unanswered: [HostID])
    /// `resend(node)` sent a flagged duplicate; or a host answered one with successors.
    case resent(ConversationID, MessageID)
    case resentSuccessors(ConversationID, of: MessageID, successors: [MessageID], to: HostID)
    /// A participant received a message: it entered the participant's view (Section 2).
    case receive(ConversationID, ParticipantID, MessageID)
    /// A message became stable in a participant's view, first observed (Sections 2, 3.1.3).
    case stable(ConversationID, ParticipantID, MessageID)
    case maskOut(ConversationID, by: ParticipantID, ParticipantID)
    /// Section 5.1: a local participant called `restart` (with `leaves`; empty for
    /// re-execution, 5.2); `logged` messages came back from its non-volatile log.
    case restart(ConversationID, ParticipantID, leaves: [MessageID], logged: Int)
    /// A restarting participant's view is restored: the image holds its leaves' down-closure.
    case restored(ConversationID, ParticipantID, view: [UInt32])
    /// An RS from `restarted`'s host arrived; the local participants were told.
    case restartNotified(ConversationID, restarted: ParticipantID)
    /// Section 5.2: a re-executing participant sent a message that was already in the graph:
    /// suppressed (not sent again), and its view grew by it.
    case resendSuppressed(ConversationID, ParticipantID, MessageID)
    /// A send failed with `wouldBlock`: the host's own messages not yet settled (held by every
    /// host not masked out) fill its share of the buffer (Section 3.3). `HostEffect.sendable` follows when they no longer do.
    case sendBlocked(ConversationID, ParticipantID, unsettled: Int)
    case maskIn(ConversationID, by: ParticipantID, ParticipantID)
    /// A packet or message was dropped, with why.
    case drop(Drop)
}

/// A dropped packet or message and the reason (DESIGN.md: bad input is "a traced drop").
public struct Drop: Sendable, Equatable, CustomStringConvertible {
    public var reason: DropReason
    public var conversation: ConversationID?
    public var message: MessageID?
    public var from: HostID?
    public var detail: String

    public init(_ reason: DropReason, conversation: ConversationID? = nil, message: MessageID? = nil,
                from: HostID? = nil, detail: String = "") {
        self.reason = reason
        self.conversation = conversation
        self.message = message
        self.from = from
        self.detail = detail
    }

    public var description: String {
        var parts = [reason.rawValue]
        if let c = conversation { parts.append("\(c)") }
        if let m = message { parts.append("\(m)") }
        if let f = from { parts.append("from \(f)") }
        if !detail.isEmpty { parts.append(detail) }
        return parts.joined(separator: " ")
    }
}

public enum DropReason: String, Sendable, CaseIterable, Codable {
    /// Bytes that do not decode as a packet.
    case malformed
    /// A copy of a message the image already holds (duplicated or resent).
    case duplicate
    /// The sender, or the host it came from, is not a participant of the conversation.
    case nonParticipant = "non-participant"
    /// An SC for a conversation with no participant on this host.
    case notTakingPart = "not-taking-part"
    /// A packet for a conversation this host knows nothing of and cannot ask about.
    case unknownConversation = "unknown-conversation"
    /// A packet for a conversation every local participant has closed.
    case closedConversation = "closed-conversation"
    /// A packet that contradicts what the image holds (ids out of order, redundant edges, ...).
    case contradiction
    /// A message from a masked-out participant that no held message needs (Section 3.2.4),
    /// arriving or held when the participant was masked out.
    case masked
    /// A held message whose retransmission requests all went unanswered (Section 3.2.3), or
    /// that waited on such a message.
    case discardedAfterFailedRequest = "discarded-after-failed-request"
    /// Section 5.1: a held message of a participant whose restart (RS) arrived since: it
    /// may never fit, and the new incarnation sends that id again (`discardHeld`).
    case supersededByRestart = "superseded-by-restart"
    /// A bound of Section 3.3 was reached.
    case holdingQueueFull = "holding-queue-full"
    case pendingLimit = "pending-limit"
    case orphanQueueFull = "orphan-queue-full"
    /// Section 3.3: an arriving message past the conversation's buffer limit, or beyond the one
    /// message a pending conversation stores. Recovered later by Section 3.2's mechanisms.
    case bufferFull = "buffer-full"
    case pendingConversation = "pending-conversation"
    /// A message naming as a predecessor a reclaimed node whose clock is gone. A correct peer
    /// cannot send one (a node is reclaimed once every participant sent something after it,
    /// Section 3.3): this is malformed or replayed input.
    case reclaimedContext = "reclaimed-context"
    /// Simulator faults, recorded by the simulator rather than the engine: random loss, a
    /// partition, a crashed destination, and a drop rule of the fault schedule.
    case loss, partition, crashed, scripted
    /// Recorded by the shells of authenticated conversations (`PsyncAuth`): a packet whose
    /// HMAC tag is missing or wrong, forged or altered by someone without the conversation's key.
    case unauthenticated

    /// Whether the drop takes a message out of a holding queue (trace tools end its hold).
    public var removesHeldMessage: Bool { self == .discardedAfterFailedRequest || self == .supersededByRestart }
}

/// Running totals a host keeps whether or not events are reported.
public struct HostCounters: Sendable, Equatable {
    public var packetsSent = 0
    public var packetsReceived = 0
    public var messagesSent = 0
    public var messagesAttached = 0
    public var messagesReceived = 0
    public var retransmitRequestsSent = 0
    /// Digests and digest replies (tail recovery, `.gaps`).
    public var digestsSent = 0
    public var retransmittedMessages = 0
    public var resends = 0
    /// Sends that flow control refused with `wouldBlock` (Section 3.3).
    public var sendsBlocked = 0
    public var drops: [DropReason: Int] = [:]
    public init() {}
}
