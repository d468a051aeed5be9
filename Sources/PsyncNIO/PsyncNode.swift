import NIOCore
import NIOPosix
import Psync
import PsyncTrace
import Synchronization

/// One Psync host in a process, on UDP: the engine on a SwiftNIO event loop, serving one or
/// more local participants and several conversations (DESIGN.md: a thin shell; the protocol is
/// the engine's, the same code the simulator drives).
///
///     let node = try await PsyncNode.start(NodeConfig(host: HostID(1), listen: ..., peers: ...))
///     let conversation = try await node.waitForConversation(as: ParticipantID(host: HostID(1)), filters: .names(["waves"]))
///     for await message in conversation.messages { ... }
///     try await node.shutdown()
public final class PsyncNode: Sendable {
    public let host: HostID
    /// The address the socket is bound to (with the port the system chose for port 0).
    public let localAddress: SocketAddress
    let core: NIOLoopBound<NodeCore>
    let eventLoop: EventLoop
    let group: MultiThreadedEventLoopGroup
    let channel: Channel
    let ending = ShutdownLatch()

    init(host: HostID, localAddress: SocketAddress, core: NIOLoopBound<NodeCore>, group: MultiThreadedEventLoopGroup, channel: Channel) {
        self.host = host
        self.localAddress = localAddress
        self.core = core
        eventLoop = channel.eventLoop
        self.group = group
        self.channel = channel
    }

    /// Binds the node's socket and starts its engine on an event loop of its own. The address
    /// is not shared (no SO_REUSEADDR): a second node on a taken port fails to start rather than
    /// receive half of the first one's datagrams.
    public static func start(_ config: NodeConfig) async throws -> PsyncNode {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        do {
            let core = try await loop.submit { () throws -> NIOLoopBound<NodeCore> in
                let core = try NodeCore(config: config, eventLoop: loop)
                let bound = NIOLoopBound(core, eventLoop: loop)
                core.bound = bound
                return bound
            }.get()
            let channel = try await DatagramBootstrap(group: loop)
                .channelOption(.socketOption(.so_rcvbuf), value: SocketOptionValue(config.receiveBufferBytes))
                .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 65_536))
                .channelOption(.maxMessagesPerRead, value: 64)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(DatagramHandler(core: core))
                    }
                }
                .bind(host: config.listen.address, port: config.listen.port).get()
            try await loop.submit {
                core.value.channel = channel
                core.value.startTraceFlushing()
            }.get()
            return PsyncNode(host: config.host, localAddress: channel.localAddress!, core: core, group: group, channel: channel)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    /// Section 2's `active_open`: creates conversation `cid` with `participants`, opened by the
    /// local participant `opener`. Nothing is sent until its first `send`, which carries the SC.
    public func open(_ participants: [ParticipantID], as opener: ParticipantID, conversation cid: ConversationID,
                     filters: FilterChoice = .none) async throws -> Conversation {
        try await eventLoop.flatSubmit { [core] in
            core.value.open(participants, as: opener, conversation: cid, filters: filters)
        }.get()
    }

    /// Section 2's `passive_open`: the oldest conversation that includes `pid`, waiting for one
    /// if none has arrived (at most `timeoutNanoseconds`, if given).
    public func waitForConversation(as pid: ParticipantID, filters: FilterChoice = .none,
                                    timeoutNanoseconds: UInt64? = nil) async throws -> Conversation {
        try await eventLoop.flatSubmit { [core] in
            core.value.waitForConversation(as: pid, filters: filters, timeoutNanoseconds: timeoutNanoseconds)
        }.get()
    }

    /// The shell's counters and the engine's.
    public func counters() async throws -> (node: NodeCounters, host: HostCounters) {
        try await eventLoop.submit { [core] in (core.value.counters, core.value.host.counters) }.get()
    }

    /// Runs `body` on the node's loop with the engine: for tools and tests that inspect the
    /// image (`Host.image`) or read what the conversation operations do not show.
    public func withHost<T: Sendable>(_ body: @escaping @Sendable (Host) throws -> T) async throws -> T {
        try await eventLoop.submit { [core] in try body(core.value.host) }.get()
    }

    /// Ends the run cleanly: message streams end, the trace gets its `end` record and is closed,
    /// the socket and the loop are released. A second call waits for the first to finish.
    public func shutdown(reason: String = "done") async throws {
        guard ending.begin() else { return await ending.wait() }
        defer { ending.open() }
        let closeTrace = try await eventLoop.submit { [core] in core.value.shutDown(reason: reason) }.get()
        try? await channel.close()
        try await group.shutdownGracefully()
        try closeTrace?()
    }

    /// Returns once `shutdown` has finished (the trace is closed): a process must not exit
    /// before, or the trace loses its end.
    public func waitUntilShutDown() async { await ending.wait() }
}

extension NodeCore {
    /// Ends a frame of the trace every `traceFlushNanoseconds`, so that a killed process leaves
    /// a trace readable up to its last second.
    func startTraceFlushing() {
        guard trace != nil else { return }
        let bound = self.bound!
        let period = TimeAmount.nanoseconds(Int64(clamping: config.traceFlushNanoseconds))
        eventLoop.scheduleRepeatedTask(initialDelay: period, delay: period) { task in
            let core = bound.value
            guard !core.isShutDown, let trace = core.trace else { return task.cancel() }
            try? trace.flush()
        }
    }

    /// Stops everything on the loop; returns the closing of the trace (done off the loop: it
    /// waits for the trace's writer thread).
    func shutDown(reason: String) -> (@Sendable () throws -> Void)? {
        guard !isShutDown else { return nil }
        record(.end(reason: reason))
        isShutDown = true
        for armed in timers.values { armed.task.cancel() }
        blastTimer?.task.cancel()
        timers.removeAll()
        for waiter in openWaiters.values { waiter.promise.fail(NodeError.shutDown) }
        openWaiters.removeAll()
        for w in workloads.values { w.stop() }
        for local in conversations.values { local.finish() }
        conversations.removeAll()
        try? messageLog?.close()
        guard let trace else { return nil }
        self.trace = nil
        let box = UncheckedSendable(trace)
        return { try box.value.close() }
    }
}

/// Opens once, when a shutdown is over; callers wait for it without blocking a thread.
final class ShutdownLatch: Sendable {
    private let state = Mutex<(begun: Bool, open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, false, []))

    /// True for the first caller, which must `open` the latch when done.
    func begin() -> Bool {
        state.withLock { s in
            defer { s.begun = true }
            return !s.begun
        }
    }

    func open() {
        let waiters = state.withLock { s in
            s.open = true
            defer { s.waiters = [] }
            return s.waiters
        }
        for w in waiters { w.resume() }
    }

    func wait() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let resumeNow = state.withLock { s in
                if s.open { return true }
                s.waiters.append(c)
                return false
            }
            if resumeNow { c.resume() }
        }
    }
}

/// Hands a value that is not `Sendable` to another thread exactly once (the trace writer,
/// closed after the loop has let go of it).
struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// Hands the socket's datagrams to the node's core.
final class DatagramHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    let core: NIOLoopBound<NodeCore>

    init(core: NIOLoopBound<NodeCore>) { self.core = core }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        core.value.received(Array(envelope.data.readableBytesView), from: envelope.remoteAddress)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        core.value.flushWrites()
    }

    /// A datagram socket reports ICMP errors (a peer that has gone: connection refused) as
    /// errors; they concern one send, not the node.
    func errorCaught(context: ChannelHandlerContext, error: Error) {
        core.value.record(.drop(DropRecord(reason: "socket-error", to: core.value.host.id, detail: "\(error)")))
    }
}
