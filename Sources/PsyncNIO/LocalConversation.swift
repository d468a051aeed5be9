import NIOCore
import Psync
import PsyncFilters

/// Which ordering filters an application receives through (Section 4): none (straight from
/// Psync's receive, in context order), a stack named as on the command line, or instances the
/// application builds (its own filters). The same filter code runs here as in simulation.
public enum FilterChoice: Sendable {
    case none
    /// `FilterRegistry` names, bottom first: `["waves"]`, `["waves", "membership"]`.
    case names([String])
    /// Builds the stack, bottom first; called on the node's event loop.
    case make(@Sendable () -> [OrderingFilter])

    func makeFilters() throws -> [OrderingFilter] {
        switch self {
        case .none: return []
        case .names(let names): return try names.map { name throws in try FilterRegistry.make(name) }
        case .make(let build): return build()
        }
    }
}

/// A message handed to the application: by Psync in context order, or by the top filter.
public struct Delivery: Sendable, Equatable {
    public var id: MessageID
    public var sender: ParticipantID
    public var payload: [UInt8]
    /// When it was handed over (CLOCK_MONOTONIC nanoseconds, the trace's clock).
    public var time: UInt64
}

/// One local participant's open conversation, on the node's loop: its filter stack and the
/// stream its application reads.
final class LocalConversation {
    unowned let core: NodeCore
    let cid: ConversationID
    let pid: ParticipantID
    let stack: FilterStack?
    let continuation: AsyncStream<Delivery>.Continuation
    let handle: Conversation
    /// Sees each batch of deliveries on the loop before the application does (the scripted
    /// workload answers a batch at once, like the simulator's).
    var observer: (([Delivery]) -> Void)?
    var stackTimer: (deadline: UInt64, task: Scheduled<Void>)?
    /// Sends that Section 3.3's flow control blocked, in order, each with the promise its
    /// caller awaits (`send` completes when the message goes out).
    var blocked: [(payload: [UInt8], promise: EventLoopPromise<MessageID?>)] = []
    /// Callers waiting for the filter stack's blocked sends to go out.
    var stackWaiters: [EventLoopPromise<MessageID?>] = []

    init(core: NodeCore, cid: ConversationID, pid: ParticipantID, filters: FilterChoice) throws {
        self.core = core
        self.cid = cid
        self.pid = pid
        let made = try filters.makeFilters()
        let now = Instant(nanoseconds: core.now)
        stack = made.isEmpty ? nil : try FilterStack(made, host: core.host, conversation: cid, participant: pid, now: now,
                                                     trace: core.trace)
        if core.trace != nil { stack?.recordEngineEvent = { [unowned core] e in core.record(e) } }
        let (stream, continuation) = AsyncStream<Delivery>.makeStream()
        self.continuation = continuation
        handle = Conversation(id: cid, participant: pid, messages: stream, node: core.bound, eventLoop: core.eventLoop)
    }

    func start() {
        guard let stack else { return }
        stack.start(now: Instant(nanoseconds: core.now)) { deliver($0) }
        afterStack()
    }

    /// Takes every outstanding message, through the stack if there is one.
    func drain() {
        if let stack {
            stack.drain(now: Instant(nanoseconds: core.now)) { deliver($0) }
            afterStack()
        } else {
            var received: [FilterMessage] = []
            while let (mid, payload) = try? core.host.receive(cid, as: pid) {
                let sender = (try? core.host.sender(mid, in: cid)) ?? pid
                received.append(FilterMessage(id: mid, sender: sender, content: .application(payload)))
            }
            deliver(received)
        }
    }

    func deliver(_ messages: [FilterMessage]) {
        let time = core.now
        let batch = messages.compactMap { m -> Delivery? in
            guard case .application(let payload) = m.content else { return nil }
            return Delivery(id: m.id, sender: m.sender, payload: payload, time: time)
        }
        guard !batch.isEmpty else { return }
        observer?(batch)
        for d in batch { continuation.yield(d) }
    }

    /// Whether sends wait for buffer space (Section 3.3).
    var hasBlockedSends: Bool { !blocked.isEmpty || stack?.hasBlockedSends == true }

    /// Sends through the stack (or straight to Psync); nil if a filter refused or held it.
    /// Without a stack the future completes with the message once it has gone out: at once,
    /// or, when Section 3.3's flow control blocks it, once the host says `.sendable` and the
    /// sends queued before it went. With a stack it completes with nil once every send the
    /// stack holds back for flow control has gone (the stack does not say which is which).
    func send(_ payload: [UInt8]) -> EventLoopFuture<MessageID?> {
        let now = Instant(nanoseconds: core.now)
        guard let stack else {
            let promise = core.eventLoop.makePromise(of: MessageID?.self)
            blocked.append((payload, promise))
            resumeBlockedSends()
            return promise.futureResult
        }
        let before = stack.context.lastSent
        let accepted = stack.send(payload, now: now)
        afterStack()
        guard stack.hasBlockedSends else {
            return core.eventLoop.makeSucceededFuture(accepted && stack.context.lastSent != before ? stack.context.lastSent : nil)
        }
        let promise = core.eventLoop.makePromise(of: MessageID?.self)
        stackWaiters.append(promise)
        return promise.futureResult
    }

    /// Sends what flow control blocked, in order, until a send blocks again.
    func resumeBlockedSends() {
        if let stack {
            stack.resumeBlockedSends(now: Instant(nanoseconds: core.now))
            afterStack()
            guard !stack.hasBlockedSends else { return }
            let waiters = stackWaiters
            stackWaiters = []
            for w in waiters { w.succeed(nil) }
            return
        }
        while let (payload, promise) = blocked.first {
            do {
                let mid = try core.host.send(payload, in: cid, as: pid, now: Instant(nanoseconds: core.now))
                blocked.removeFirst()
                promise.succeed(mid)
            } catch .wouldBlock {
                break
            } catch {
                blocked.removeFirst()
                promise.fail(error)
            }
        }
        core.apply(core.host.takeEffects())
    }

    /// Carries out what a stack operation left and keeps its timer scheduled.
    func afterStack() {
        guard let stack else { return }
        deliver(stack.takeApplicationDeliveries())
        core.apply(stack.takeHostEffects())
        guard let deadline = stack.nextTimerDeadline?.nanoseconds, stackTimer?.deadline != deadline else { return }
        stackTimer?.task.cancel()
        let bound = core.bound!, key = ConversationKey(cid, pid)
        let task = core.eventLoop.scheduleTask(in: core.delay(until: deadline)) {
            if let local = bound.value.conversations[key] { local.stackTimerFired() }
        }
        stackTimer = (deadline, task)
    }

    func stackTimerFired() {
        guard let stack, !core.isShutDown else { return }
        stackTimer = nil
        deliver(stack.fireTimers(now: Instant(nanoseconds: core.now)))
        afterStack()
    }

    func finish() {
        stackTimer?.task.cancel()
        for (_, promise) in blocked { promise.fail(NodeError.shutDown) }
        for promise in stackWaiters { promise.fail(NodeError.shutDown) }
        blocked = []
        stackWaiters = []
        continuation.finish()
    }
}
