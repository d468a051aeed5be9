import Psync
import PsyncFilters

/// Running the scripted application through a filter stack (`SimulationConfig.filters`, or the
/// stack the simulator was given): the
/// stack takes Psync's receives, the application sends through it and takes its deliveries.
/// Every delivery of every filter is recorded with its time, for the checkers and latencies.
extension Simulator {
    func openStack(_ i: Int, _ cid: ConversationID, resume: (sent: UInt32, delivered: Int)? = nil) {
        let filters = makeStack()
        filterGuarantees = filters.map(\.guarantees)
        let stack = try! FilterStack(filters, host: hosts[i], conversation: cid, participant: apps[i].pid,
                                     now: Instant(nanoseconds: now), trace: trace)
        if trace != nil {
            let host = hosts[i]
            stack.recordEngineEvent = { [unowned self] e in
                self.record(host.id, Workload.traceKind(e, on: host, framed: true))
            }
        }
        let records = config.recordsHistory
        stack.onViewGrew = { [unowned self] m in
            // A restarted participant's old message that reached no one may come back as
            // another kind of message under its id (Section 5.2): the latest says which.
            if records {
                if m.isApplication { self.applicationMessages.insert(m.id) } else { self.applicationMessages.remove(m.id) }
            }
            if m.sender == self.apps[i].pid { self.sent(i, m.id, data: m.isWorkloadData) } else {
                self.record(i, m.id)
                if m.isWorkloadData { self.dataEnteredView(i, m.id) }
            }
        }
        stack.onResendSuppressed = { [unowned self] m in self.apps[i].resent.insert(m) }
        let top = filters.count - 1
        // From a checkpoint, the application's state already has the first deliveries.
        let applied = resume?.delivered ?? 0
        stack.onDeliver = { [unowned self] f, m, position in
            if f == top, position > applied, case .application(let payload) = m.content, Workload.isData(payload) {
                self.apps[i].replica.apply(payload, from: m.id.senderIndex)
                if m.id.senderIndex == i || self.apps[i].commandBasis == nil { self.apps[i].commandBasis = self.apps[i].replica.digest }
            }
            if records { self.filterDeliveries[f][i].append(FilterDelivery(message: m.id, time: self.now, content: m.content,
                                                                                      historyLength: self.apps[i].history.count)) }
        }
        apps[i].stack = stack
        if let resume { stack.resume(ownThrough: resume.sent, delivered: resume.delivered) }
        // A restarted participant's log may make messages deliverable at once.
        stack.start(now: Instant(nanoseconds: now)) { delivered in
            respond(i, dataFrom: delivered.filter(\.isWorkloadData).map(\.id.senderIndex))
        }
        afterStack(i)
    }

    /// Carries out the host effects a stack operation left, keeps its timer scheduled, and lets
    /// the application answer what the operation delivered (a send or a timer can complete a
    /// wave: the ring's token may be in it).
    func afterStack(_ i: Int) {
        guard let stack = apps[i].stack else { return }
        apply(stack.takeHostEffects(), host: hosts[i].id)
        if let m = stack.reexecutionDivergedAt, !divergences.contains(where: { $0.participant == i && $0.message == m }) {
            divergences.append((i, m))
        }
        let delivered = stack.takeApplicationDeliveries()
        if !delivered.isEmpty { respond(i, dataFrom: delivered.filter(\.isWorkloadData).map(\.id.senderIndex)) }
        if let deadline = stack.nextTimerDeadline?.nanoseconds, apps[i].stackTimer != deadline {
            apps[i].stackTimer = deadline
            queue.push(.filterTimer(i, deadline: deadline), at: max(deadline, now))
        }
    }

    /// Participant i's filter stack, once its conversation is open.
    public func stack(of i: Int) -> FilterStack? { apps[i].stack }

    /// Schedules `action` at virtual time `time`, to act on a participant's filters (propose a
    /// readmission, terminate a conversation) or send as its application, as a scenario needs.
    public func at(_ time: UInt64, _ action: @escaping (Simulator) -> Void) {
        scripted.append(action)
        queue.push(.scripted(scripted.count - 1), at: time)
    }

    /// Runs `body` on participant i's stack (as `FilterStack.perform`), then carries out what it did.
    public func perform(participant i: Int, _ body: (FilterContext) -> Void) {
        guard let stack = apps[i].stack, !crashed.contains(hosts[i].id) else { return }
        stack.perform(now: Instant(nanoseconds: now), body)
        afterStack(i)
    }

    /// Sends `payload` as participant i's application, through its stack; false if refused.
    @discardableResult
    public func sendAsApplication(participant i: Int, _ payload: [UInt8]) -> Bool {
        guard let stack = apps[i].stack, !crashed.contains(hosts[i].id) else { return false }
        let accepted = stack.send(payload, now: Instant(nanoseconds: now))
        afterStack(i)
        return accepted
    }

    func filterTimer(_ i: Int, deadline: UInt64) {
        guard let stack = apps[i].stack, apps[i].stackTimer == deadline else { return }
        apps[i].stackTimer = nil
        _ = stack.fireTimers(now: Instant(nanoseconds: now))
        afterStack(i)
    }
}

/// One delivery by one filter at one participant.
public struct FilterDelivery: Sendable, Equatable {
    public var message: MessageID
    public var time: UInt64
    public var content: FilterMessage.Content
    /// How many messages the participant's history held then: what its view showed (the quorum
    /// check reads it; times cannot tell, as the model checker's steps do not move the clock).
    public var historyLength: Int
}

extension FilterMessage {
    /// Whether this is the workload's application data: not an acknowledgement, not a filter's
    /// control message.
    var isWorkloadData: Bool {
        if case .application(let payload) = content { Workload.isData(payload) } else { false }
    }
}
