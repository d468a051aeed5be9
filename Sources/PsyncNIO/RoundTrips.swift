import NIOCore
import Psync
import PsyncTrace

/// Section 6's round trip (Table 1), run on the node's event loop so that the measurement holds
/// no task switches the other transports do not pay: the client sends a 1-byte message, the
/// server answers every message it receives with a 1-byte message in its context, the client
/// sends the next once the answer is delivered. Nanoseconds per round trip, in order.
final class RoundTrips {
    let local: LocalConversation
    let count: Int
    var sentAt: UInt64 = 0
    var latencies: [UInt64] = []
    let done: EventLoopPromise<[UInt64]>

    init(local: LocalConversation, count: Int) {
        self.local = local
        self.count = count
        latencies.reserveCapacity(count)
        done = local.core.eventLoop.makePromise()
    }

    func start() {
        local.observer = { [unowned self] batch in self.answered(batch) }
        ping()
    }

    func ping() {
        sentAt = RealRun.monotonicNanoseconds()
        _ = try? local.send([1])
    }

    func answered(_ batch: [Delivery]) {
        guard batch.contains(where: { $0.sender != local.pid }) else { return }
        latencies.append(RealRun.monotonicNanoseconds() - sentAt)
        guard latencies.count < count else {
            local.observer = nil
            return done.succeed(latencies)
        }
        ping()
    }
}

extension PsyncNode {
    /// Measures `count` round trips on `conversation` (this node's participant sends, the other
    /// answers with `answerEveryMessage`). Returns nanoseconds per round trip.
    public func roundTrips(on conversation: Conversation, count: Int) async throws -> [UInt64] {
        try await eventLoop.flatSubmit { [core] () -> EventLoopFuture<[UInt64]> in
            let c = core.value
            guard let local = c.conversations[ConversationKey(conversation.id, conversation.participant)] else {
                return c.eventLoop.makeFailedFuture(PsyncError.notOpen(conversation.participant, conversation.id))
            }
            let run = RoundTrips(local: local, count: count)
            c.roundTrips[conversation.id] = run
            run.start()
            return run.done.futureResult
        }.get()
    }

    /// Waits for a conversation of `pid` and answers every message the other participants send
    /// on it with `reply`, in its context, on the loop (the server side of `roundTrips`).
    public func answerEveryMessage(as pid: ParticipantID, with reply: [UInt8] = [2]) async throws -> Conversation {
        try await eventLoop.flatSubmit { [core] in
            core.value.waitForConversation(as: pid, filters: .none, timeoutNanoseconds: nil) { local in
                local.observer = { [unowned local] batch in
                    if batch.contains(where: { $0.sender != local.pid }) { _ = try? local.send(reply) }
                }
            }
        }.get()
    }
}
