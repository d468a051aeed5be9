import NIOCore
import Psync
import PsyncAuth
import PsyncLog
import PsyncFilters
import PsyncSimulator
import PsyncTrace

/// The state of one node, confined to its event loop: the engine, the local conversations, the
/// timers and the trace. It turns datagrams and timer expiries into `Host.handle` calls and
/// carries out the engine's effects (DESIGN.md: the shell holds no protocol logic).
///
/// Engine instants and trace times are CLOCK_MONOTONIC nanoseconds (`RealRun`), so that the
/// traces of the processes of one machine merge by time alone.
final class NodeCore {
    let config: NodeConfig
    let host: Host
    let eventLoop: EventLoop
    let addresses: [HostID: SocketAddress]
    let hostsByAddress: [SocketAddress: HostID]
    var channel: Channel?
    var faults: FaultInjector
    /// The blast layer (Section 6.2) between the engine and the socket: large packets go out in
    /// fragments and come back reassembled; small ones pass through unchanged.
    var blastSender: BlastSender
    var blastReceiver: BlastReceiver<HostID>
    var blastTimer: (deadline: UInt64, task: Scheduled<Void>)?
    var trace: LZ4TraceWriter?
    /// Section 5: the host's log, if it keeps one, and what an earlier incarnation left in it
    /// (handed to `restart`).
    var messageLog: MessageLog?
    var logged: [AddNode] = []
    var counters = NodeCounters()
    /// Seals and opens packets of authenticated conversations (`NodeConfig.authentication`).
    var authenticator: PacketAuthenticator?
    var timers: [TimerID: ArmedTimer] = [:]
    var conversations: [ConversationKey: LocalConversation] = [:]
    var openWaiters: [ParticipantID: OpenWaiter] = [:]
    /// Scripted workloads run by local participants, by participant index (`NodeWorkload`).
    var workloads: [ParticipantIndex: NodeWorkload] = [:]
    /// Round-trip measurements in progress (`RoundTrips`), by conversation.
    var roundTrips: [ConversationID: RoundTrips] = [:]
    var writesPending = false
    /// Send records say what the message carries (data, ack, control) when a scripted workload
    /// runs here, as in the simulator's traces; `framesPayloads` when it runs through filters.
    var workloadContent = false
    var framesPayloads = false
    var isShutDown = false
    /// The loop-bound handle closures scheduled on the loop use to reach this core.
    var bound: NIOLoopBound<NodeCore>!

    struct ArmedTimer {
        /// The engine's deadline; the task may be scheduled earlier (`arm` keeps an earlier task
        /// rather than rescheduling on every postponement: most arms postpone the digest timer).
        var deadline: UInt64
        var task: Scheduled<Void>
        var firesAt: UInt64
    }

    struct OpenWaiter {
        var promise: EventLoopPromise<Conversation>
        var filters: FilterChoice
        var prepare: Prepare?
    }

    /// Called with a conversation before it takes in its first message (a workload attaches here).
    typealias Prepare = (LocalConversation) -> Void

    init(config: NodeConfig, eventLoop: EventLoop) throws {
        self.config = config
        self.eventLoop = eventLoop
        authenticator = config.authentication
        var engine = config.engine
        engine.reportsEvents = config.tracePath != nil
        if let path = config.logPath {
            // What a previous incarnation logged is read before this one appends (Section 5).
            // (A missing file reads as nothing; one that is not a log fails the opening below.)
            logged = (try? MessageLog.read(path))?.messages ?? []
            messageLog = try MessageLog(path: path)
        }
        host = Host(id: config.host, config: engine, seed: config.seed, storage: messageLog)
        let book = try config.addressBook()
        var addresses: [HostID: SocketAddress] = [:]
        for (h, e) in book.endpoints { addresses[h] = try SocketAddress(ipAddress: e.address, port: e.port) }
        self.addresses = addresses
        hostsByAddress = Dictionary(uniqueKeysWithValues: addresses.map { ($1, $0) })
        faults = FaultInjector(link: config.faults, seed: config.seed &* 0x9E37_79B9_7F4A_7C15 &+ 1)
        // Blast ids start from the wall clock, so a restarted process does not reuse its old ids.
        blastSender = BlastSender(config: config.blast, firstBlastID: RealRun.startingNow(host: config.host).wallClockAtStartNanoseconds)
        blastReceiver = BlastReceiver(config: config.blast)
        if let path = config.tracePath {
            trace = try LZ4TraceWriter(path: path)
            let run = RealRun.startingNow(host: config.host, settings: config.settings)
            trace?.record(TraceEvent(time: run.monotonicAtStartNanoseconds, host: config.host,
                                     .header(TraceHeader(clock: "monotonic", seed: config.seed, participants: config.runParticipants,
                                                         conversation: config.runConversation, filters: config.runFilters,
                                                         run: run.json))))
        }
    }

    var now: UInt64 { RealRun.monotonicNanoseconds() }

    // MARK: Effects

    /// Carries out the engine's effects; writes go out together at the end (one `sendmmsg`).
    /// The engine lists participants to wake last (`Outbox.wakeUps`), so what they receive is
    /// traced after the `arrive` records of the same call.
    func apply(_ effects: [HostEffect]) {
        let time = now
        for effect in effects {
            switch effect {
            case .transmit(let packet, let destinations):
                transmit(packet, to: destinations, now: time)
            case .setTimer(let id, let deadline):
                arm(id, deadline: deadline.nanoseconds)
            case .opened(let cid, let pid):
                opened(cid, pid)
            case .messageAvailable(let cid, let pid):
                if let local = conversations[ConversationKey(cid, pid)] { drain(local) }
            case .sendable(let cid, let pid):
                conversations[ConversationKey(cid, pid)]?.resumeBlockedSends()
            case .restarted(let cid, let pid, let restarted):
                if let local = conversations[ConversationKey(cid, pid)], let stack = local.stack {
                    stack.participantRestarted(restarted, now: Instant(nanoseconds: time))
                    local.afterStack()
                }
            case .timedOut:
                break
            case .event(let e):
                record(e, at: time)
            }
        }
        flushWrites()
    }

    /// Records an engine event, with the workload's content kinds when the workload runs here.
    func record(_ e: EngineEvent, at time: UInt64? = nil) {
        record(workloadContent ? Workload.traceKind(e, on: host, framed: framesPayloads) : TraceEvent.Kind(e), at: time)
    }

    func record(_ kind: @autoclosure () -> TraceEvent.Kind, at time: UInt64? = nil) {
        guard let trace, !isShutDown else { return }
        trace.record(TraceEvent(time: time ?? now, host: host.id, kind()))
    }

    // MARK: Timers

    func arm(_ id: TimerID, deadline: UInt64) {
        if var armed = timers[id], armed.firesAt <= deadline {
            armed.deadline = deadline
            timers[id] = armed
            return
        }
        timers[id]?.task.cancel()
        let bound = self.bound!
        let task = eventLoop.scheduleTask(in: delay(until: deadline)) { bound.value.timerFired(id) }
        timers[id] = ArmedTimer(deadline: deadline, task: task, firesAt: deadline)
    }

    /// The time from now to `deadline` (zero if it has passed). The clock is read once: read
    /// twice, it can pass the deadline between the comparison and the subtraction.
    func delay(until deadline: UInt64) -> TimeAmount {
        let t = now
        return .nanoseconds(Int64(deadline > t ? deadline - t : 0))
    }

    func timerFired(_ id: TimerID) {
        guard !isShutDown, let armed = timers[id] else { return }
        if armed.deadline > now {
            timers[id] = nil
            return arm(id, deadline: armed.deadline)
        }
        timers[id] = nil
        apply(host.handle(.timer(id), now: Instant(nanoseconds: now)))
    }

    // MARK: Conversations

    /// Opens the local view of `cid` for `pid` (the engine already did): its stack, its stream.
    func attach(_ cid: ConversationID, _ pid: ParticipantID, filters: FilterChoice, prepare: Prepare? = nil) throws -> Conversation {
        let local = try LocalConversation(core: self, cid: cid, pid: pid, filters: filters)
        conversations[ConversationKey(cid, pid)] = local
        prepare?(local)
        local.start()
        drain(local)
        return local.handle
    }

    func opened(_ cid: ConversationID, _ pid: ParticipantID) {
        guard let waiter = openWaiters.removeValue(forKey: pid) else { return }
        do { waiter.promise.succeed(try attach(cid, pid, filters: waiter.filters, prepare: waiter.prepare)) } catch {
            waiter.promise.fail(error)
        }
    }

    /// Section 5's `restart`, on the loop: this process is a new incarnation of a host that
    /// failed; its participant rejoins `cid` by re-execution, with what its log kept.
    func restart(_ participants: [ParticipantID], as pid: ParticipantID, conversation cid: ConversationID,
                 filters: FilterChoice, prepare: Prepare? = nil) -> EventLoopFuture<Conversation> {
        eventLoop.makeCompletedFuture {
            guard !isShutDown else { throw NodeError.shutDown }
            try host.restart(cid, as: pid, participants: participants, leaves: [], logged: logged, now: Instant(nanoseconds: now))
            logged = []
            apply(host.takeEffects())
            return try attach(cid, pid, filters: filters, prepare: prepare)
        }
    }

    /// Section 2's `active_open`, on the loop.
    func open(_ participants: [ParticipantID], as opener: ParticipantID, conversation cid: ConversationID,
              filters: FilterChoice, prepare: Prepare? = nil) -> EventLoopFuture<Conversation> {
        eventLoop.makeCompletedFuture {
            guard !isShutDown else { throw NodeError.shutDown }
            try host.activeOpen(participants, as: opener, conversation: cid)
            apply(host.takeEffects())
            return try attach(cid, opener, filters: filters, prepare: prepare)
        }
    }

    /// Section 2's `passive_open`, on the loop: at once if a conversation is pending, else when
    /// its SC arrives (or fails after `timeoutNanoseconds`).
    func waitForConversation(as pid: ParticipantID, filters: FilterChoice, timeoutNanoseconds: UInt64?,
                             prepare: Prepare? = nil) -> EventLoopFuture<Conversation> {
        guard pid.host == host.id else { return eventLoop.makeFailedFuture(NodeError.notLocal(pid)) }
        guard !isShutDown else { return eventLoop.makeFailedFuture(NodeError.shutDown) }
        if let cid = host.passiveOpen(pid, now: Instant(nanoseconds: now)) {
            apply(host.takeEffects())
            return eventLoop.makeCompletedFuture { try attach(cid, pid, filters: filters, prepare: prepare) }
        }
        apply(host.takeEffects())
        let promise = eventLoop.makePromise(of: Conversation.self)
        openWaiters[pid] = OpenWaiter(promise: promise, filters: filters, prepare: prepare)
        if let timeout = timeoutNanoseconds {
            let bound = self.bound!
            eventLoop.scheduleTask(in: .nanoseconds(Int64(clamping: timeout))) {
                bound.value.openWaiters.removeValue(forKey: pid)?.promise.fail(NodeError.timedOut)
            }
        }
        return promise.futureResult
    }

    /// Takes in what Psync has for the participant (through its stack), then waits again.
    /// Takes in what is available, then waits for more. (What the application sent in answer
    /// can make more available at once when it re-executes, Section 5.2: taken in too.)
    func drain(_ local: LocalConversation) {
        repeat {
            local.drain()
        } while !isShutDown && (try? host.waitForMessage(local.cid, as: local.pid, now: Instant(nanoseconds: now))) == true
        apply(host.takeEffects())
    }
}

struct ConversationKey: Hashable {
    var cid: ConversationID
    var pid: ParticipantID
    init(_ cid: ConversationID, _ pid: ParticipantID) {
        self.cid = cid
        self.pid = pid
    }
}
