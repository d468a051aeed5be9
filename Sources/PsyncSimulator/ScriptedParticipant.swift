import Psync
import PsyncFilters

/// The state of the scripted application on one simulated participant (see `Workload`).
struct ScriptedParticipant {
    let index: Int
    let pid: ParticipantID
    var rng: SplitMix64
    var conversation: ConversationID?
    /// The filter stack the application uses, if the configuration names filters.
    var stack: FilterStack?
    var stackTimer: UInt64?
    var dataSent = 0
    var acksSent = 0
    /// The last-ACK work-around's state (`Simulator+Settling.swift`): per sender, the newest
    /// data message in this participant's view; the last message it sent, of any kind.
    var newestData: [MessageID?]
    var lastSent: MessageID?
    var settleAttempts = 0
    var settleGeneration = 0
    /// Messages sent or received, in order: the participant's view as the application saw it.
    var history: [MessageID] = []
    var historyTimes: [UInt64] = []
    var received: [MessageID] = []
    /// The reference model (`ReferenceContexts`): each message this participant sent, with the
    /// length of its history then (the message's context is that prefix).
    var sends: [(message: MessageID, contextLength: Int)] = []
    /// Its sends the engine suppressed as re-sends of messages already in the graph (5.2).
    var resent: Set<MessageID> = []
    /// Sends that Section 3.3's flow control blocked, in order: sent when the host says
    /// `.sendable` (the paper's blocking `send`).
    var blocked: [(payload: [UInt8], kind: Workload.PayloadKind)] = []
    /// The replicated workload's state: the commands the top filter delivered, applied in order.
    var replica = ReplicatedRegisters()
    /// The digest its next command carries (`Workload.command`).
    var commandBasis: UInt64?
}

/// The scripted workload, driven by the simulator's events.
extension Simulator {
    func start(_ i: Int) {
        let pid = apps[i].pid
        let host = hosts[i]
        if i == 0 {
            let cid = try! host.activeOpen(config.participantIDs, as: pid, conversation: config.conversation)
            opened(i, cid, sendFirst: true)
        } else if let cid = host.passiveOpen(pid, now: Instant(nanoseconds: now)) {
            opened(i, cid)
        }
        apply(host.takeEffects(), host: host.id)
    }

    func opened(_ i: Int, _ cid: ConversationID, sendFirst: Bool = false) {
        apps[i].conversation = cid
        if !config.filters.isEmpty { openStack(i, cid) }
        if sendFirst { sendMessage(i, .data) }
        afterOpen(i)
        receiveAll(i)
    }

    func afterOpen(_ i: Int) {
        if config.workload.pattern != nil && apps[i].dataSent < config.workload.messagesPerParticipant { return }
        if apps[i].dataSent < config.workload.messagesPerParticipant {
            queue.push(.send(i), at: now + nextInterval(i))
        } else {
            startSettling(i)
        }
    }

    func nextInterval(_ i: Int) -> UInt64 { config.workload.nextInterval(&apps[i].rng) }

    func scheduledSend(_ i: Int) {
        guard apps[i].dataSent < config.workload.messagesPerParticipant else { return }
        sendMessage(i, .data)
        afterOpen(i)
    }

    /// Takes in what is available (from Psync, or from the filter stack's top), then replies or
    /// acknowledges, and waits again. (A reply that re-executes a message already in the graph,
    /// Section 5.2, can make more available at once: then it takes that in too.)
    func receiveAll(_ i: Int) {
        guard let cid = apps[i].conversation else { return }
        let host = hosts[i]
        let pid = apps[i].pid
        repeat {
            if let stack = apps[i].stack {
                stack.drain(now: Instant(nanoseconds: now)) { delivered in
                    respond(i, dataFrom: delivered.filter(\.isWorkloadData).map(\.id.senderIndex))
                }
                afterStack(i)
            } else {
                var dataFrom: [ParticipantIndex] = []
                while let (mid, payload) = try! host.receive(cid, as: pid) {
                    record(i, mid)
                    if Workload.isData(payload) {
                        dataFrom.append(mid.senderIndex)
                        dataEnteredView(i, mid)
                    }
                }
                respond(i, dataFrom: dataFrom)
            }
        } while apps[i].conversation != nil && (try! host.waitForMessage(cid, as: pid, now: Instant(nanoseconds: now)))
        apply(host.takeEffects(), host: host.id)
    }

    /// The application's answer to received data (`Workload.response`): a reply or the ring's
    /// token while it has budget, an acknowledgement (Figure 8) once its budget is spent.
    func respond(_ i: Int, dataFrom senders: [ParticipantIndex]) {
        let budgetLeft = apps[i].dataSent < config.workload.messagesPerParticipant
        guard let kind = config.workload.response(to: senders, at: i, of: config.participants, budgetLeft: budgetLeft,
                                                  sentData: apps[i].dataSent > 0, &apps[i].rng)
        else { return }
        // Sends waiting for buffer space (Section 3.3) will carry this context: no ACK for it.
        if kind == .ack && (!apps[i].blocked.isEmpty || apps[i].stack?.hasBlockedSends == true) { return }
        sendMessage(i, kind)
    }

    func sendMessage(_ i: Int, _ kind: Workload.PayloadKind) {
        guard let cid = apps[i].conversation else { return }
        let number = kind == .data ? apps[i].dataSent : apps[i].acksSent
        let beta = kind == .data && config.workload.betaFraction > 0 && apps[i].rng.nextUnit() < config.workload.betaFraction
        let payload = config.workload.pattern == .replicated && kind == .data
            ? config.workload.command(participant: i, number: number, digest: apps[i].commandBasis ?? 0)
            : config.workload.payload(kind, participant: i, number: number, beta: beta)
        if kind == .data { apps[i].dataSent += 1 } else { apps[i].acksSent += 1 }
        if let stack = apps[i].stack {
            // The stack reports the message (if a filter lets it through) as own view growth.
            stack.send(payload, now: Instant(nanoseconds: now))
            afterStack(i)
            return
        }
        if apps[i].blocked.isEmpty && trySend(i, cid, payload, kind) { return }
        apps[i].blocked.append((payload, kind))
    }

    /// Sends through Psync; false if flow control blocked the send (Section 3.3).
    func trySend(_ i: Int, _ cid: ConversationID, _ payload: [UInt8], _ kind: Workload.PayloadKind) -> Bool {
        defer { apply(hosts[i].takeEffects(), host: hosts[i].id) }
        do {
            // Only a restarted participant's send can be one of its old messages (Section 5.2).
            let again = incarnations[i] > 0 && (try? hosts[i].reexecutionStep(cid, as: apps[i].pid)) != nil
            let mid = try hosts[i].send(payload, in: cid, as: apps[i].pid, now: Instant(nanoseconds: now))
            if again { apps[i].resent.insert(mid) }
            sent(i, mid, data: kind == .data)
            if kind == .data { checkpoint(i, after: mid) }
            return true
        } catch .wouldBlock {
            return false
        } catch .reexecutionDiverged(let m) {
            // A re-executed application that is not deterministic: reported, and it stops.
            divergences.append((i, m))
            apps[i].conversation = nil
            return true
        } catch {
            preconditionFailure("participant \(i) cannot send: \(error)")
        }
    }

    /// The host said `.sendable`: the blocked sends go out in order until one blocks again.
    func resumeBlockedSends(_ i: Int) {
        if let stack = apps[i].stack {
            stack.resumeBlockedSends(now: Instant(nanoseconds: now))
            return afterStack(i)
        }
        guard let cid = apps[i].conversation else { return }
        while let (payload, kind) = apps[i].blocked.first, trySend(i, cid, payload, kind) { apps[i].blocked.removeFirst() }
    }

    /// Bookkeeping of a message participant i sent: the reference context, the time.
    func sent(_ i: Int, _ mid: MessageID, data: Bool) {
        if config.recordsHistory {
            apps[i].sends.append((mid, apps[i].history.count))
            sentAt[mid] = now
        }
        record(i, mid)
        apps[i].lastSent = mid
        if data {
            dataEnteredView(i, mid)
            if apps[i].stack != nil { checkpoint(i, after: mid) }
        } else if repeatsLastMessage(i) && apps[i].dataSent >= config.workload.messagesPerParticipant {
            startSettling(i)
        }
    }

    func record(_ i: Int, _ mid: MessageID) {
        guard config.recordsHistory else { return }
        apps[i].history.append(mid)
        apps[i].historyTimes.append(now)
        if mid.senderIndex != i {
            apps[i].received.append(mid)
            receivedAt[i][mid] = now
        }
    }
}
