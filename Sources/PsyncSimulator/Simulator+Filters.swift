import Psync
import PsyncFilters

/// Running the scripted application through a filter stack (`SimulationConfig.filters`): the
/// stack takes Psync's receives, the application sends through it and takes its deliveries.
/// Every delivery of every filter is recorded with its time, for the checkers and latencies.
extension Simulator {
    func openStack(_ i: Int, _ cid: ConversationID) {
        let filters = makeFilters(config.filters)
        filterGuarantees = filters.map(\.guarantees)
        let stack = try! FilterStack(filters, host: hosts[i], conversation: cid, participant: apps[i].pid,
                                     now: Instant(nanoseconds: now), trace: trace)
        stack.onViewGrew = { [unowned self] m in
            if m.isApplication { self.applicationMessages.insert(m.id) }
            if m.sender == self.apps[i].pid { self.sent(i, m.id) } else {
                self.record(i, m.id)
                self.apps[i].received.append(m.id)
                self.receivedAt[i][m.id] = self.now
            }
        }
        stack.onDeliver = { [unowned self] f, m, _ in
            self.filterDeliveries[f][i].append(FilterDelivery(message: m.id, time: self.now, content: m.content))
        }
        apps[i].stack = stack
        stack.start(now: Instant(nanoseconds: now))
        afterStack(i)
    }

    /// Carries out the host effects a stack operation left, and keeps its timer scheduled.
    func afterStack(_ i: Int) {
        guard let stack = apps[i].stack else { return }
        apply(stack.takeHostEffects(), host: hosts[i].id)
        if let deadline = stack.nextTimerDeadline?.nanoseconds, apps[i].stackTimer != deadline {
            apps[i].stackTimer = deadline
            queue.push(.filterTimer(i, deadline: deadline), at: max(deadline, now))
        }
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
}
