import NIOCore
import Psync
import PsyncFilters
import PsyncSimulator
import PsyncTrace

/// The simulator's scripted workload (`Workload`), run by one participant of a real node, so
/// that simulated and real runs compare directly: the same payloads, budgets, reply and
/// acknowledgement rules, and the same last-ACK work-around (settling), on the real clock.
///
/// The run is over for this participant once every participant's data has reached its
/// application (a participant a membership filter removed is not waited for) and every data
/// message is stable (over the agreed set, under a filter stack); `finished` then completes.
final class NodeWorkload {
    unowned let core: NodeCore
    let workload: Workload
    let index: ParticipantIndex
    let participants: Int
    var rng: SplitMix64
    var local: LocalConversation?
    var dataSent = 0
    var acksSent = 0
    /// Data messages delivered (or sent) per sender, and each sender's newest data message.
    var dataSeen: [Int]
    var newestData: [MessageID?]
    var settleAttempts = 0
    var settleTask: Scheduled<Void>?
    var sendTask: Scheduled<Void>?
    let finished: EventLoopPromise<Void>
    var isFinished = false
    var deliveries: [Delivery] = []

    init(core: NodeCore, workload: Workload, index: ParticipantIndex, participants: Int, seed: UInt64) {
        self.core = core
        self.workload = workload
        self.index = index
        self.participants = participants
        rng = SplitMix64(seed: seed)
        dataSeen = Array(repeating: 0, count: participants)
        newestData = Array(repeating: nil, count: participants)
        finished = core.eventLoop.makePromise()
    }

    /// The conversation is being opened: watch what it delivers from the first message on.
    func attach(_ local: LocalConversation) {
        self.local = local
        local.observer = { [unowned self] batch in self.delivered(batch) }
        // Under a stack, own data is counted as it enters the view (a send that flow control
        // held back enters it later, and the stack does not say which call it was).
        local.stack?.onViewGrew = { [unowned self] m in
            guard m.sender == local.pid, case .application(let payload) = m.content, Workload.isData(payload) else { return }
            self.ownDataSent(m.id)
        }
    }

    /// Own data message `mid` is in the view: it counts towards the run's end.
    func ownDataSent(_ mid: MessageID) {
        dataSeen[index] += 1
        newestData[index] = mid
        if dataSent >= workload.messagesPerParticipant { startSettling() }
        checkFinished()
    }

    /// The conversation is open: the opener sends at once (it carries the SC), then everyone
    /// sends at exponential intervals.
    func begin() {
        if index == 0 { send(.data) }
        scheduleNextSend()
        checkFinished()
    }

    func scheduleNextSend() {
        guard dataSent < workload.messagesPerParticipant else { return startSettling() }
        guard workload.pattern != .ring else { return }
        let delay = workload.nextInterval(&rng)
        sendTask = core.eventLoop.scheduleTask(in: .nanoseconds(Int64(clamping: delay))) { [bound = core.bound!, index] in
            guard let w = bound.value.workloads[index], !bound.value.isShutDown else { return }
            w.send(.data)
            w.scheduleNextSend()
        }
    }

    func send(_ kind: Workload.PayloadKind) {
        guard let local else { return }
        let number = kind == .data ? dataSent : acksSent
        let beta = kind == .data && workload.betaFraction > 0 && rng.nextUnit() < workload.betaFraction
        let payload = workload.payload(kind, participant: index, number: number, beta: beta)
        if kind == .data { dataSent += 1 } else { acksSent += 1 }
        // A send that flow control blocks completes later (Section 3.3), on the loop.
        // Without a stack the call returns the message; with one, `attach` counts it.
        let counts = kind == .data && local.stack == nil
        local.send(payload).whenComplete { [bound = core.bound!, index] result in
            guard let w = bound.value.workloads[index] else { return }
            guard case .success(let sent) = result, let mid = sent, counts else { return w.checkFinished() }
            w.ownDataSent(mid)
        }
    }

    /// The application's answer to received data, as in the simulator (`Workload.response`): a
    /// reply or the ring's token while budget is left, an acknowledgement (Figure 8) once spent.
    func delivered(_ batch: [Delivery]) {
        let others = batch.filter { $0.sender != local?.pid }
        deliveries += others
        let data = others.filter { Workload.isData($0.payload) }
        guard !data.isEmpty else { return }
        for d in data {
            dataSeen[d.id.senderIndex] += 1
            newestData[d.id.senderIndex] = d.id
        }
        let budgetLeft = dataSent < workload.messagesPerParticipant
        let senders = data.map(\.id.senderIndex)
        if let kind = workload.response(to: senders, at: index, of: participants, budgetLeft: budgetLeft, &rng),
           kind != .ack || !(local?.hasBlockedSends ?? false) {
            // Sends waiting for buffer space (Section 3.3) will carry this context: no ACK for it.
            send(kind)
        }
        if !budgetLeft { startSettling() }
        checkFinished()
    }

    /// The last-ACK work-around (`Simulator+Settling.swift`): after a quiet settle timeout,
    /// resend each sender's newest data message that is not stable yet.
    func startSettling() {
        settleAttempts = 0
        settleTask?.cancel()
        scheduleSettle()
    }

    func scheduleSettle() {
        settleTask = core.eventLoop.scheduleTask(in: .nanoseconds(Int64(clamping: workload.settleTimeoutNanoseconds))) {
            [bound = core.bound!, index] in
            guard let w = bound.value.workloads[index], !bound.value.isShutDown else { return }
            w.settle()
        }
    }

    func settle() {
        guard let local else { return }
        checkFinished()
        let unstable = newestData.compactMap { $0 }.filter { !isStable($0) }
        guard !unstable.isEmpty, settleAttempts < workload.settleAttempts else { return }
        settleAttempts += 1
        for m in unstable { _ = try? core.host.resend(m, in: local.cid, as: local.pid, now: Instant(nanoseconds: core.now)) }
        core.apply(core.host.takeEffects())
        scheduleSettle()
    }

    /// Stable over the agreed participants when a filter stack keeps an agreed set.
    func isStable(_ m: MessageID) -> Bool {
        guard let local else { return false }
        if let stack = local.stack { return stack.context.isAgreedStable(m) }
        return (try? core.host.stable(m, in: local.cid, as: local.pid)) ?? false
    }

    /// Whether every live participant's data is here and stable.
    func checkFinished() {
        guard let local, !isFinished else { return }
        // Not while sends wait for buffer space (Section 3.3): the linger follows the last send.
        guard !local.hasBlockedSends else { return }
        let agreed = local.stack?.context.agreed ?? Array(repeating: true, count: participants)
        // Without acknowledgements nothing follows the last messages, which then never become
        // stable: the run is over once every participant's data has arrived.
        for s in 0..<participants where agreed[s] {
            guard dataSeen[s] >= workload.messagesPerParticipant, let newest = newestData[s],
                  !workload.acknowledges || isStable(newest) else { return }
        }
        isFinished = true
        finished.succeed(())
    }

    /// The node shuts down before the workload finished.
    func stop() {
        sendTask?.cancel()
        settleTask?.cancel()
        guard !isFinished else { return }
        isFinished = true
        finished.fail(NodeError.shutDown)
    }
}

/// What a participant's scripted workload came to.
public struct WorkloadOutcome: Sendable {
    public var conversation: Conversation
    /// Messages from other participants handed to the application, in order.
    public var deliveries: [Delivery]
    public var dataSent: Int
    public var acknowledgementsSent: Int
    /// From the open to the end (every live participant's data here and stable), nanoseconds.
    public var elapsedNanoseconds: UInt64
}

extension PsyncNode {
    /// Runs the simulator's scripted workload as participant `pid` of conversation `cid`
    /// (participant 0 opens it, the others wait for it), until every live participant's data
    /// has reached this application and is stable. `seed` drives the intervals and replies;
    /// `PsyncNode.participantSeed` derives the simulator's per-participant seeds.
    /// With `restart`, this node is a new incarnation of a host that failed: its participant
    /// rejoins by re-execution (Section 5.2) instead of opening, and the workload runs again
    /// from its start (deterministic as the ring without acknowledgements).
    public func runWorkload(_ workload: Workload, conversation cid: ConversationID, participants: [ParticipantID],
                            as pid: ParticipantID, filters: FilterChoice = .none, seed: UInt64,
                            restart: Bool = false) async throws -> WorkloadOutcome {
        guard let index = participants.firstIndex(of: pid) else { throw NodeError.notLocal(pid) }
        let start = RealRun.monotonicNanoseconds()
        let opened = try await eventLoop.flatSubmit { [core] () -> EventLoopFuture<(Conversation, EventLoopFuture<Void>)> in
            let c = core.value
            let w = NodeWorkload(core: c, workload: workload, index: index, participants: participants.count, seed: seed)
            c.workloads[index] = w
            c.workloadContent = true
            if case .none = filters {} else { c.framesPayloads = true }
            let prepare: NodeCore.Prepare = { local in w.attach(local) }
            let conversation = restart
                ? c.restart(participants, as: pid, conversation: cid, filters: filters, prepare: prepare)
                : index == 0
                ? c.open(participants, as: pid, conversation: cid, filters: filters, prepare: prepare)
                : c.waitForConversation(as: pid, filters: filters, timeoutNanoseconds: nil, prepare: prepare)
            let finished = w.finished.futureResult
            return conversation.map {
                core.value.workloads[index]?.begin()
                return ($0, finished)
            }
        }.get()
        let conversation = opened.0
        try await opened.1.get()
        let end = RealRun.monotonicNanoseconds()
        return try await eventLoop.submit { [core] in
            let w = core.value.workloads[index]!
            return WorkloadOutcome(conversation: conversation, deliveries: w.deliveries, dataSent: w.dataSent,
                                   acknowledgementsSent: w.acksSent, elapsedNanoseconds: end - start)
        }.get()
    }
}
