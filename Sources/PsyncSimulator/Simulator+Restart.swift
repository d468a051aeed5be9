import Psync

/// Section 5 in the simulator: a crashed host comes back with its volatile state lost (a new
/// engine; the application's state gone, or back to its latest checkpoint) and its log, if it
/// keeps one; its participant calls `restart`.
///
/// The scripted application is deterministic (the paper's condition for re-execution, 5.2) only
/// when what it sends depends on what it receives and not on time: the ring workload without
/// acknowledgements and without filters, or the replicated state machine over a total-order
/// stack (re-execution only: the stack's state is not checkpointed), whose filters' own
/// control messages the stack replays (`FilterStack`); `psync simulate` insists on it. Its
/// checkpoint is its whole state (a value) with its view's leaves, taken after each of its data
/// messages.
extension Simulator {
    func restart(_ r: HostRestart) {
        let i = Int(r.host), id = hosts[i].id
        guard crashed.contains(id) else { return }
        crashed.remove(id)
        timerDeadlines[id] = nil
        incarnations[i] += 1
        hosts[i] = Host(id: id, config: hostConfig, seed: hostSeeds[i] &+ UInt64(incarnations[i]) &* 0x9E37_79B9_7F4A_7C15,
                        storage: recorders[i])
        let settled = apps[i].settleGeneration
        if config.recordsHistory {
            formerIncarnations[i].append(ReferenceContexts.Incarnation(history: apps[i].history, sends: apps[i].sends,
                                                                      resent: apps[i].resent))
        }
        var leaves: [MessageID] = []
        if r.mode == .checkpoint, let checkpoint = checkpoints[i] {
            apps[i] = checkpoint.app
            leaves = checkpoint.leaves
        } else {
            apps[i] = initialApps[i]
        }
        // Settle timers of the lost incarnation must not fire for this one.
        apps[i].settleGeneration = settled + 1
        let cid = config.conversation
        do {
            try hosts[i].restart(cid, as: apps[i].pid, participants: config.participantIDs, leaves: leaves,
                                 logged: r.log ? recorders[i]?.log ?? [] : [], now: Instant(nanoseconds: now))
        } catch {
            preconditionFailure("restart of participant \(i) refused: \(error)")
        }
        apps[i].conversation = cid
        apply(hosts[i].takeEffects(), host: id)
        if !config.filters.isEmpty {
            // A new stack re-delivers from the root: this incarnation's deliveries are the
            // participant's (the checkers hold them to the filters' promises).
            for f in filterDeliveries.indices { filterDeliveries[f][i] = [] }
            openStack(i, cid)
        }
        // Re-executed from the start, the opener sends its first message again (suppressed).
        if leaves.isEmpty && i == 0 && apps[i].dataSent == 0 { sendMessage(i, .data) }
        receiveAll(i)
    }

    /// Takes participant i's checkpoint after it sent a data message, if a restart from one is
    /// scheduled for its host.
    func checkpoint(_ i: Int) {
        guard config.faults.restarts.contains(where: { $0.host == UInt32(i) && $0.mode == .checkpoint }),
              let cid = apps[i].conversation, let leaves = try? hosts[i].leaves(cid, as: apps[i].pid) else { return }
        checkpoints[i] = (apps[i], leaves)
    }
}
