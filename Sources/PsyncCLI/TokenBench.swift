import ArgumentParser
import Foundation
import NIOCore
import NIOPosix
import Psync
import PsyncNIO
import PsyncTrace
import PsyncSimulator

/// `psync bench token`: Table 2 of Section 6, today. A token circulates through N processes;
/// each pass is a 1-byte message to the next host: over Psync, one conversation among all N,
/// each pass sent in the context of the previous one (and, Psync being many-to-many, seen by
/// every host); over TCP, a ring of NODELAY connections. This process is host 0: it starts each
/// lap and times it; the others (`psync bench token-peer`) pass the token on. Delay per message
/// is a lap's time divided by N. Rounds alternate the transports.
struct TokenBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Token passing around a ring of processes: Psync against TCP (the paper's Table 2).")

    @Option(help: "Ring sizes (comma-separated).") var hosts = "2,4,6,8"
    @Option(help: "Laps per transport and ring size, after the warm-up.") var laps = 2_000
    @Option(help: "Rounds the laps are split into (transports alternate).") var rounds = 10
    @Option(help: "Warm-up laps per transport.") var warmup = 100
    @Option(help: "Write every lap here as CSV (hosts,transport,round,nanoseconds_per_message).") var csv: String?
    @Option(help: "Drop this fraction of Psync's outgoing datagrams (seeded, in the shell). Kernel TCP cannot be given the same loss without netem: its column stays loss-free.")
    var loss = 0.0

    func run() async throws {
        let sizes = hosts.split(separator: ",").compactMap { Int($0) }
        guard !sizes.isEmpty, sizes.allSatisfy({ $0 >= 2 }), laps >= rounds, rounds >= 1 else {
            throw ValidationError("--hosts takes ring sizes of at least 2; --laps >= --rounds >= 1")
        }
        guard (0..<1).contains(loss) else { throw ValidationError("--loss is a probability below 1") }
        if loss > 0 { print("Psync's datagrams: \(loss) dropped (seeded); TCP: no loss (none can be injected into kernel TCP here)") }
        print(machineDescription(pinned: false))
        var rows = ["hosts,transport,round,nanoseconds_per_message"]
        var lines = ["| hosts | Psync us/message | TCP us/message | Psync / TCP | paper (1989) | Psync mean | TCP mean |",
                     "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        let paper = [2: "0.87", 4: "0.83", 6: "0.79", 8: "0.64"]
        for n in sizes {
            let ring = try await TokenRing.start(hosts: n, loss: loss)
            _ = try await ring.laps(.psync, warmup)
            _ = try await ring.laps(.tcp, warmup)
            var samples: [RTTClients.Transport: [Double]] = [:]
            for round in 0..<rounds {
                let share = laps / rounds + (round < laps % rounds ? 1 : 0)
                for t in round % 2 == 0 ? [RTTClients.Transport.psync, .tcp] : [.tcp, .psync] {
                    let perMessage = try await ring.laps(t, share).map { Double($0) / Double(n) }
                    samples[t, default: []] += perMessage
                    rows += perMessage.map { "\(n),\(t.rawValue),\(round),\(Int($0))" }
                }
            }
            try await ring.stop()
            let median = { (t: RTTClients.Transport) in samples[t]!.sorted()[samples[t]!.count / 2] / 1000 }
            let mean = { (t: RTTClients.Transport) in samples[t]!.reduce(0, +) / Double(samples[t]!.count) / 1000 }
            lines.append("| \(n) | \(String(format: "%.1f", median(.psync))) | \(String(format: "%.1f", median(.tcp))) | "
                         + "\(String(format: "%.2f", median(.psync) / median(.tcp))) | \(paper[n] ?? "-") | "
                         + "\(String(format: "%.1f", mean(.psync))) | \(String(format: "%.1f", mean(.tcp))) |")
        }
        print(lines.joined(separator: "\n"))
        print("(delay per message: a lap's time / hosts; medians and means over \(laps) laps per transport and ring size)")
        if let csv { try (rows.joined(separator: "\n") + "\n").write(toFile: csv, atomically: true, encoding: .utf8) }
    }
}

/// `psync bench token-peer`: one host of the ring, until standard input closes.
struct TokenPeer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "token-peer", abstract: "A host of 'psync bench token'.",
                                                    shouldDisplay: false)

    @Option var index: Int
    @Option(name: .customLong("psync-ports")) var psyncPorts: String
    @Option(name: .customLong("tcp-ports")) var tcpPorts: String
    @Option var loss = 0.0

    func run() async throws {
        let udp = psyncPorts.split(separator: ",").compactMap { Int($0) }
        let tcp = tcpPorts.split(separator: ",").compactMap { Int($0) }
        let n = udp.count
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let next = NIOLoopBoundBox<Channel?>.makeEmptyBox(valueType: Channel.self, eventLoop: loop)
        let server = try await ServerBootstrap(group: loop)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { c in c.eventLoop.makeCompletedFuture { try c.pipeline.syncOperations.addHandler(TokenForwarder(next: next)) } }
            .bind(host: "127.0.0.1", port: tcp[index]).get()
        let successor = try await connect(loop, port: tcp[(index + 1) % n])
        try await loop.submit { next.value = successor }.get()
        let node = try await PsyncNode.start(TokenRing.psyncConfig(host: index, ports: udp, loss: loss))
        print("ready")
        fflush(nil)
        let passing = Task {
            try await node.answerEveryMessage(as: ParticipantID(host: HostID(UInt32(index))),
                                              from: ParticipantID(host: HostID(UInt32(index - 1))))
        }
        while readLine() != nil {}
        passing.cancel()
        try await node.shutdown()
        try? await successor.close()
        try? await server.close()
        try await group.shutdownGracefully()
    }
}

/// Connects to a ring neighbour, retrying while it starts.
func connect(_ loop: EventLoop, port: Int) async throws -> Channel {
    for attempt in 0..<200 {
        do {
            return try await ClientBootstrap(group: loop).channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connect(host: "127.0.0.1", port: port).get()
        } catch where attempt < 199 {
            try await Task.sleep(nanoseconds: 25_000_000)
        }
    }
    throw ValidationError("cannot connect to port \(port)")
}

/// Passes every byte from the predecessor's connection on to the successor's.
final class TokenForwarder: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let next: NIOLoopBoundBox<Channel?>
    init(next: NIOLoopBoundBox<Channel?>) { self.next = next }
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        next.value?.writeAndFlush(unwrapInboundIn(data), promise: nil)
    }
}

/// Host 0 of the TCP ring: each byte back from the predecessor closes a lap.
final class LapTimer: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let next: NIOLoopBoundBox<Channel?>
    var remaining = 0
    var startedAt: UInt64 = 0
    var laps: [UInt64] = []
    var done: EventLoopPromise<[UInt64]>?
    init(next: NIOLoopBoundBox<Channel?>) { self.next = next }

    func run(_ count: Int, on loop: EventLoop) -> EventLoopFuture<[UInt64]> {
        let promise = loop.makePromise(of: [UInt64].self)
        done = promise
        remaining = count
        laps = []
        pass()
        return promise.futureResult
    }

    func pass() {
        startedAt = RealRun.monotonicNanoseconds()
        guard let channel = next.value else { return }
        channel.writeAndFlush(channel.allocator.buffer(bytes: [1]), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        laps.append(RealRun.monotonicNanoseconds() - startedAt)
        remaining -= 1
        if remaining > 0 { return pass() }
        done?.succeed(laps)
        done = nil
    }
}

/// The ring seen from host 0: the peers' processes, the TCP ring's ends, the Psync conversation.
struct TokenRing: Sendable {
    let peers: [UncheckedProcess]
    let group: MultiThreadedEventLoopGroup
    let timer: NIOLoopBound<LapTimer>
    let channels: [Channel]
    let node: PsyncNode
    let conversation: Conversation
    let hosts: Int

    static func psyncConfig(host: Int, ports: [Int], loss: Double) throws -> NodeConfig {
        var book = PeerAddressBook()
        for (h, port) in ports.enumerated() { try book.add(HostID(UInt32(h)), at: .init(address: "127.0.0.1", port: port)) }
        return NodeConfig(host: HostID(UInt32(host)), listen: book.endpoint(of: HostID(UInt32(host)))!, peers: book,
                          seed: UInt64(host + 1), faults: LinkModel(delay: .constant(nanoseconds: 0), lossProbability: loss))
    }

    static func start(hosts n: Int, loss: Double) async throws -> TokenRing {
        let udp = try LoopbackPorts.free(n)
        let tcp = try LoopbackPorts.free(n)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let next = NIOLoopBoundBox<Channel?>.makeEmptyBox(valueType: Channel.self, eventLoop: loop)
        let timer = try await loop.submit { NIOLoopBound(LapTimer(next: next), eventLoop: loop) }.get()
        let server = try await ServerBootstrap(group: loop)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { c in c.eventLoop.makeCompletedFuture { try c.pipeline.syncOperations.addHandler(timer.value) } }
            .bind(host: "127.0.0.1", port: tcp[0]).get()
        let me = URL(fileURLWithPath: CommandLine.arguments[0]).path
        var peers: [UncheckedProcess] = []
        for k in 1..<n {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: me)
            p.arguments = ["bench", "token-peer", "--index", "\(k)", "--psync-ports", udp.map(String.init).joined(separator: ","),
                           "--tcp-ports", tcp.map(String.init).joined(separator: ","), "--loss", "\(loss)"]
            let ready = Pipe()
            p.standardOutput = ready
            p.standardInput = Pipe()  // the peer ends when this process ends (its stdin closes)
            try p.run()
            peers.append(UncheckedProcess(process: p, ready: ready))
        }
        for peer in peers {
            guard String(decoding: peer.ready.fileHandleForReading.availableData, as: UTF8.self).hasPrefix("ready") else {
                throw ValidationError("a token-peer process did not start")
            }
        }
        let successor = try await connect(loop, port: tcp[1])
        try await loop.submit { next.value = successor }.get()
        let node = try await PsyncNode.start(psyncConfig(host: 0, ports: udp, loss: loss))
        let pids = (0..<n).map { ParticipantID(host: HostID(UInt32($0))) }
        let conversation = try await node.open(pids, as: pids[0], conversation: ConversationID(1))
        return TokenRing(peers: peers, group: group, timer: timer, channels: [server, successor], node: node,
                         conversation: conversation, hosts: n)
    }

    /// `count` laps; nanoseconds per lap.
    func laps(_ t: RTTClients.Transport, _ count: Int) async throws -> [UInt64] {
        guard count > 0 else { return [] }
        switch t {
        case .psync:
            return try await node.roundTrips(on: conversation, count: count, from: ParticipantID(host: HostID(UInt32(hosts - 1))))
        default:
            let loop = group.next()
            return try await loop.flatSubmit { [timer] in timer.value.run(count, on: loop) }.get()
        }
    }

    func stop() async throws {
        try await node.shutdown()
        for c in channels { try? await c.close() }
        for p in peers {
            if let input = p.process.standardInput as? Pipe { try? input.fileHandleForWriting.close() }
            p.process.waitUntilExit()
        }
        try await group.shutdownGracefully()
    }
}

/// A child process and its ready pipe (Foundation's `Process` is not `Sendable`; these are only
/// touched by the task that runs the benchmark).
struct UncheckedProcess: @unchecked Sendable {
    let process: Process
    let ready: Pipe
}
