import NIOCore
import Psync
import PsyncTrace

/// Section 6's round trip (Table 1) and token lap (Table 2), run on the node's event loop so
/// that the measurement holds no task switches the other transports do not pay: this
/// participant sends a 1-byte message; the others answer (`answerEveryMessage`), and once the
/// message from `from` is delivered (the server; or the ring's last host, whose pass closes a lap)
/// the next goes out in its context. Nanoseconds per round trip or lap, in order.
final class RoundTrips {
    let local: LocalConversation
    let count: Int
    let from: ParticipantID?
    var sentAt: UInt64 = 0
    var latencies: [UInt64] = []
    let done: EventLoopPromise<[UInt64]>

    init(local: LocalConversation, count: Int, from: ParticipantID?) {
        self.local = local
        self.count = count
        self.from = from
        latencies.reserveCapacity(count)
        done = local.core.eventLoop.makePromise()
    }

    func start() {
        local.observer = { [unowned self] batch in self.answered(batch) }
        ping()
    }

    func ping() {
        sentAt = RealRun.monotonicNanoseconds()
        _ = local.send([1])
    }

    func answered(_ batch: [Delivery]) {
        guard batch.contains(where: { $0.sender != local.pid && (from == nil || $0.sender == from) }) else { return }
        latencies.append(RealRun.monotonicNanoseconds() - sentAt)
        guard latencies.count < count else {
            local.observer = nil
            return done.succeed(latencies)
        }
        ping()
    }
}

extension PsyncNode {
    /// Measures `count` round trips on `conversation`: this node's participant sends, the others
    /// answer with `answerEveryMessage`, and a round trip ends when the answer of `from` (any
    /// other participant if nil) is delivered. Returns nanoseconds per round trip.
    public func roundTrips(on conversation: Conversation, count: Int, from: ParticipantID? = nil) async throws -> [UInt64] {
        try await eventLoop.flatSubmit { [core] () -> EventLoopFuture<[UInt64]> in
            let c = core.value
            guard let local = c.conversations[ConversationKey(conversation.id, conversation.participant)] else {
                return c.eventLoop.makeFailedFuture(PsyncError.notOpen(conversation.participant, conversation.id))
            }
            let run = RoundTrips(local: local, count: count, from: from)
            c.roundTrips[conversation.id] = run
            run.start()
            return run.done.futureResult
        }.get()
    }

    /// Waits for a conversation of `pid` and answers every message of `from` (of any other
    /// participant if nil) with `reply`, in its context, on the loop: the server side of
    /// `roundTrips`, or a host of the token ring passing the token on.
    public func answerEveryMessage(as pid: ParticipantID, from: ParticipantID? = nil,
                                   with reply: [UInt8] = [2]) async throws -> Conversation {
        try await eventLoop.flatSubmit { [core] in
            core.value.waitForConversation(as: pid, filters: .none, timeoutNanoseconds: nil) { local in
                local.observer = { [unowned local] batch in
                    if batch.contains(where: { $0.sender != local.pid && (from == nil || $0.sender == from) }) {
                        _ = local.send(reply)
                    }
                }
            }
        }.get()
    }
}
