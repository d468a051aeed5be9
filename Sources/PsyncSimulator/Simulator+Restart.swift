import Psync

/// Section 5 in the simulator: a crashed host comes back with its volatile state lost (a new
/// engine; the application's state gone, or back to its latest checkpoint) and its log, if it
/// keeps one; its participant calls `restart`.
///
/// The scripted application is deterministic (the paper's condition for re-execution, 5.2) only
/// when what it sends depends on what it receives and not on time: the ring workload without
/// acknowledgements and without filters, or the replicated state machine over a total-order
/// stack, whose filters' own control messages the stack replays (`FilterStack`); `psync
/// simulate` insists on it. Its checkpoint is its whole state (a value) with its view's leaves,
/// taken after each of its data messages; under filters, whose state is not in it, with how
/// many messages it had sent and its stack delivered instead of the leaves (`FilterStack.resume`).
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
        var resume: (sent: UInt32, delivered: Int)?
        checkpointCandidates[i] = []  // the lost incarnation's, never committed
        if r.mode == .checkpoint, let checkpoint = checkpoints[i] {
            apps[i] = checkpoint.app
            // Under filters the view starts at the root, for the filters to run again.
            if config.filters.isEmpty {
                leaves = checkpoint.leaves
            } else {
                resume = (checkpoint.last.sequence, checkpoint.delivered)
                // The view starts over, and with it what the reference model records of it.
                let fresh = initialApps[i]
                (apps[i].history, apps[i].historyTimes, apps[i].received) = (fresh.history, fresh.historyTimes, fresh.received)
                (apps[i].sends, apps[i].resent) = (fresh.sends, fresh.resent)
            }
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
            openStack(i, cid, resume: resume)
        }
        // Re-executed from the start, the opener sends its first message again (suppressed).
        if leaves.isEmpty && i == 0 && apps[i].dataSent == 0 { sendMessage(i, .data) }
        receiveAll(i)
    }

    /// Takes participant i's checkpoint after it sent data message `mid`, if a restart from one
    /// is scheduled for its host: a candidate, until `mid` is stable.
    func checkpoint(_ i: Int, after mid: MessageID) {
        guard config.faults.restarts.contains(where: { $0.host == UInt32(i) && $0.mode == .checkpoint }),
              let cid = apps[i].conversation, let leaves = try? hosts[i].leaves(cid, as: apps[i].pid) else { return }
        commitCheckpoint(i)
        checkpointCandidates[i].append(Checkpoint(app: apps[i], leaves: leaves, last: mid, delivered: apps[i].stack?.topDeliveries ?? 0))
    }

    /// The newest candidate whose message is stable becomes participant i's checkpoint; older
    /// candidates go. A checkpoint names the messages its application had sent: one that never
    /// left a crashing host would be lost, and the restored application would never send it
    /// again, so an application keeps a checkpoint only once every participant followed it
    /// (Section 5.1 recovers what is stable). Called as it takes a new one and as its host
    /// crashes (the application checks its candidates then at the latest).
    func commitCheckpoint(_ i: Int) {
        guard let cid = apps[i].conversation,
              let k = checkpointCandidates[i].lastIndex(where: { (try? hosts[i].stable($0.last, in: cid, as: apps[i].pid)) == true })
        else { return }
        checkpoints[i] = checkpointCandidates[i][k]
        checkpointCandidates[i].removeFirst(k + 1)
    }
}

/// A participant's application checkpoint (Section 5.1): its whole state, its view's leaves,
/// the data message it was taken after and how many messages its top filter had delivered.
struct Checkpoint {
    var app: ScriptedParticipant
    var leaves: [MessageID]
    var last: MessageID
    var delivered: Int
}
