import NIOCore
import Psync
import PsyncFilters

/// An application's handle on one conversation of a `PsyncNode` (Section 2's conversation
/// abstraction, Swift-concurrency native). Every call hops to the node's event loop, where the
/// engine lives; the handle itself is a value that can be passed between tasks.
///
///     for await message in conversation.messages { ... }   // in context order, or the top filter's
///     let mid = try await conversation.send(Array("hello".utf8))
///     if try await conversation.stable(mid) { ... }
public struct Conversation: Sendable {
    public let id: ConversationID
    public let participant: ParticipantID
    /// What Psync (or the top filter) hands to the application, in order. Ends when the
    /// conversation is closed or the node shuts down.
    public let messages: AsyncStream<Delivery>
    let node: NIOLoopBound<NodeCore>
    let eventLoop: EventLoop

    /// Runs `body` on the loop with this conversation's state.
    func onLoop<T: Sendable>(_ body: @escaping @Sendable (NodeCore, LocalConversation) throws -> T) async throws -> T {
        let key = ConversationKey(id, participant)
        return try await eventLoop.submit { [node] in
            let core = node.value
            guard !core.isShutDown else { throw NodeError.shutDown }
            guard let local = core.conversations[key] else { throw PsyncError.notOpen(key.pid, key.cid) }
            return try body(core, local)
        }.get()
    }

    /// Sends `payload` in the context of everything this participant has received (Section 2),
    /// through the filter stack. Returns the new message, or nil if a filter held or refused it.
    /// With a buffer limit (Section 3.3), waits while the conversation's buffer is full.
    @discardableResult
    public func send(_ payload: [UInt8]) async throws -> MessageID? {
        try await onLoop { _, local in local.send(payload) }.get()
    }

    /// Section 3.2.2: resends `mid` (flagged); hosts that have it answer with its successors.
    @discardableResult
    public func resend(_ mid: MessageID) async throws -> Bool {
        try await onLoop { core, local in
            let resent = try core.host.resend(mid, in: local.cid, as: local.pid, now: Instant(nanoseconds: core.now))
            core.apply(core.host.takeEffects())
            return resent
        }
    }

    /// Whether `mid` is stable in this participant's view (Section 2).
    public func stable(_ mid: MessageID) async throws -> Bool {
        try await onLoop { core, l in try core.host.stable(mid, in: l.cid, as: l.pid) }
    }

    /// Whether the view holds a path from `a` to `b`.
    public func precedes(_ a: MessageID, _ b: MessageID) async throws -> Bool {
        try await onLoop { core, l in try core.host.precedes(a, b, in: l.cid, as: l.pid) }
    }

    /// The view's leaves: the messages a send now would be in the context of.
    public func leaves() async throws -> [MessageID] {
        try await onLoop { core, l in try core.host.leaves(l.cid, as: l.pid) }
    }

    public func next(_ mid: MessageID) async throws -> [MessageID] {
        try await onLoop { core, l in try core.host.next(mid, in: l.cid, as: l.pid) }
    }

    public func prev(_ mid: MessageID) async throws -> [MessageID] {
        try await onLoop { core, l in try core.host.prev(mid, in: l.cid, as: l.pid) }
    }

    public func participants() async throws -> [ParticipantID] {
        try await onLoop { core, l in try core.host.participants(l.cid) }
    }

    /// Section 3.2.3: the largest n for which `mid` is n-stable.
    public func nStable(_ mid: MessageID) async throws -> Int {
        try await onLoop { core, l in try core.host.nStable(mid, in: l.cid, as: l.pid) }
    }

    /// Section 3.2.4: removes `target` from this view's working set of participants.
    public func maskOut(_ target: ParticipantID) async throws {
        try await onLoop { core, l in
            try core.host.maskOut(target, in: l.cid, as: l.pid)
            core.apply(core.host.takeEffects())
        }
    }

    public func maskIn(_ target: ParticipantID) async throws {
        try await onLoop { core, l in
            try core.host.maskIn(target, in: l.cid, as: l.pid)
            core.apply(core.host.takeEffects())
        }
    }

    /// Calls into the participant's filters (a membership proposal, a handshake's terminate),
    /// on the loop, then carries out what they did.
    public func perform(_ body: @escaping @Sendable (FilterContext) -> Void) async throws {
        try await onLoop { core, l in
            guard let stack = l.stack else { throw NodeError.noFilters }
            stack.perform(now: Instant(nanoseconds: core.now), body)
            l.afterStack()
        }
    }

    /// Closes this participant's view; its message stream ends (Section 3.1.2: no packet is sent).
    public func close() async throws {
        try await onLoop { core, l in
            try core.host.close(l.cid, as: l.pid)
            core.conversations[ConversationKey(l.cid, l.pid)] = nil
            l.finish()
        }
    }
}

public enum NodeError: Error, Sendable, CustomStringConvertible {
    case shutDown
    case noFilters
    case timedOut
    case notLocal(ParticipantID)

    public var description: String {
        switch self {
        case .shutDown: "the node has shut down"
        case .noFilters: "the conversation has no filter stack"
        case .timedOut: "no conversation arrived in time"
        case .notLocal(let p): "\(p) is not a participant of this node's host"
        }
    }
}
