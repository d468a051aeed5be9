import Psync

/// The workload's last-ACK work-around (Section 3.2.2): a message nothing depends on, such as
/// the last acknowledgement, can be lost without anyone noticing, so once its budget is spent a
/// participant checks, `settleTimeoutNanoseconds` after data last entered its view, that the
/// conversation has settled, and resends what it must if not, at most `settleAttempts` times.
///
/// Without a filter stack every message that is not data answers data (a reply or an
/// acknowledgement, Figure 8), so a lost message shows as a data message that is not stable
/// somewhere: nothing is resent when nothing was lost. With a stack, the filters' control
/// messages (their acknowledgements) and acknowledgements of already answered data are
/// answered by nobody and their loss shows nowhere. Under `RecoveryPolicy.gaps` tail recovery
/// brings them; under the paper's rule only their sender can repeat them, so there a
/// participant also resends its last message, of any kind, until it is stable (it never is
/// when nobody answers it, so that costs `settleAttempts` resends per participant).
extension Simulator {
    /// Whether participant i must repeat its last message of any kind (see above).
    func repeatsLastMessage(_ i: Int) -> Bool { apps[i].stack != nil && config.host.recovery == .paper }

    /// A data message (sent or received) entered participant i's view: the newest of its
    /// sender there. Once i's budget is spent, the check waits a settle timeout from now.
    func dataEnteredView(_ i: Int, _ mid: MessageID) {
        apps[i].newestData[mid.senderIndex] = mid
        if apps[i].dataSent >= config.workload.messagesPerParticipant { startSettling(i) }
    }

    func startSettling(_ i: Int) {
        apps[i].settleAttempts = 0
        apps[i].settleGeneration += 1
        queue.push(.settle(i, generation: apps[i].settleGeneration), at: now + config.workload.settleTimeoutNanoseconds)
    }

    /// Every data message in i's view is stable once each sender's newest one is (stability
    /// passes to predecessors). For one that is not, `send_stable`'s remedy (Figure 6): resend
    /// it, which brings it to the hosts that lost it, and makes the hosts that have it answer
    /// with its immediate successors (replies and acknowledgements lost on the way here). Psync
    /// ignores the resend of a stable message, and the check ends when nothing was resent.
    /// Whatever else a loss left behind is for recovery to bring (tail recovery, under
    /// `RecoveryPolicy.gaps`). O(participants).
    func settle(_ i: Int) {
        guard let cid = apps[i].conversation, apps[i].settleAttempts < config.workload.settleAttempts else { return }
        let host = hosts[i], pid = apps[i].pid
        var resends = apps[i].newestData.compactMap { $0 }.filter { !(try! host.stable($0, in: cid, as: pid)) }
        if repeatsLastMessage(i), let last = apps[i].lastSent, !resends.contains(last) { resends.append(last) }
        var resent = false
        for m in resends where try! host.resend(m, in: cid, as: pid, now: Instant(nanoseconds: now)) { resent = true }
        guard resent else { return }
        apps[i].settleAttempts += 1
        apply(host.takeEffects(), host: host.id)
        queue.push(.settle(i, generation: apps[i].settleGeneration), at: now + config.workload.settleTimeoutNanoseconds)
    }
}
