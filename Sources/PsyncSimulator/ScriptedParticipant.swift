import Psync

/// The state of the scripted application on one simulated participant (see `Workload`).
struct ScriptedParticipant {
    let index: Int
    let pid: ParticipantID
    var rng: SplitMix64
    var conversation: ConversationID?
    var dataSent = 0
    var acksSent = 0
    var lastSent: MessageID?
    var settleAttempts = 0
    var settleGeneration = 0
    /// Messages sent or received, in order: the participant's view as the application saw it.
    var history: [MessageID] = []
    var historySet: Set<MessageID> = []
    var received: [MessageID] = []
}

/// The scripted workload, driven by the simulator's events.
extension Simulator {
    func start(_ i: Int) {
        let pid = apps[i].pid
        let host = hosts[i]
        if i == 0 {
            let cid = try! host.activeOpen(config.participantIDs, as: pid, conversation: config.conversation)
            apps[i].conversation = cid
            sendMessage(i, .data)
            afterOpen(i)
        } else if let cid = host.passiveOpen(pid, now: Instant(nanoseconds: now)) {
            opened(i, cid)
        }
        apply(host.takeEffects(), host: host.id)
    }

    func opened(_ i: Int, _ cid: ConversationID) {
        apps[i].conversation = cid
        afterOpen(i)
        receiveAll(i)
    }

    func afterOpen(_ i: Int) {
        if apps[i].dataSent < config.workload.messagesPerParticipant {
            queue.push(.send(i), at: now + nextInterval(i))
        } else {
            startSettling(i)
        }
    }

    func nextInterval(_ i: Int) -> UInt64 {
        DelayDistribution.exponential(baseNanoseconds: 0, meanNanoseconds: config.workload.meanIntervalNanoseconds)
            .sample(&apps[i].rng)
    }

    func scheduledSend(_ i: Int) {
        guard apps[i].dataSent < config.workload.messagesPerParticipant else { return }
        sendMessage(i, .data)
        afterOpen(i)
    }

    /// Receives every outstanding message, then replies or acknowledges, and waits again.
    func receiveAll(_ i: Int) {
        guard let cid = apps[i].conversation else { return }
        let host = hosts[i]
        let pid = apps[i].pid
        var receivedData = false
        while let (mid, payload) = try! host.receive(cid, as: pid) {
            record(i, mid)
            apps[i].received.append(mid)
            if payload.first == Workload.PayloadKind.data.rawValue { receivedData = true }
        }
        if receivedData {
            let budgetLeft = apps[i].dataSent < config.workload.messagesPerParticipant
            if budgetLeft && apps[i].rng.nextUnit() < config.workload.replyProbability {
                sendMessage(i, .data)
                if apps[i].dataSent == config.workload.messagesPerParticipant { startSettling(i) }
            } else if !budgetLeft && config.workload.acknowledges {
                sendMessage(i, .ack)
                startSettling(i)
            }
        }
        _ = try! host.waitForMessage(cid, as: pid, now: Instant(nanoseconds: now))
        apply(host.takeEffects(), host: host.id)
    }

    func sendMessage(_ i: Int, _ kind: Workload.PayloadKind) {
        guard let cid = apps[i].conversation else { return }
        let number = kind == .data ? apps[i].dataSent : apps[i].acksSent
        let payload = config.workload.payload(kind, participant: i, number: number)
        let mid = try! hosts[i].send(payload, in: cid, as: apps[i].pid, now: Instant(nanoseconds: now))
        if config.recordsHistory { contexts[mid] = apps[i].historySet }
        record(i, mid)
        apps[i].lastSent = mid
        if kind == .data { apps[i].dataSent += 1 } else { apps[i].acksSent += 1 }
        apply(hosts[i].takeEffects(), host: hosts[i].id)
    }

    func record(_ i: Int, _ mid: MessageID) {
        guard config.recordsHistory else { return }
        apps[i].history.append(mid)
        apps[i].historySet.insert(mid)
    }

    /// The last-ACK work-around (Section 3.2.2): check the last message's stability later.
    func startSettling(_ i: Int) {
        apps[i].settleAttempts = 0
        apps[i].settleGeneration += 1
        queue.push(.settle(i, generation: apps[i].settleGeneration), at: now + config.workload.settleTimeoutNanoseconds)
    }

    func settle(_ i: Int) {
        guard let cid = apps[i].conversation, let last = apps[i].lastSent,
              apps[i].settleAttempts < config.workload.settleAttempts else { return }
        let host = hosts[i]
        guard try! host.resend(last, in: cid, as: apps[i].pid, now: Instant(nanoseconds: now)) else { return }
        apps[i].settleAttempts += 1
        apply(host.takeEffects(), host: host.id)
        queue.push(.settle(i, generation: apps[i].settleGeneration), at: now + config.workload.settleTimeoutNanoseconds)
    }
}
