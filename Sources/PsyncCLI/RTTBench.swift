import ArgumentParser
import Foundation
import NIOCore
import NIOPosix
import Psync
import PsyncNIO

/// `psync bench rtt`: Table 1 of Section 6, today. Round trips of a 1-byte message between two
/// processes over four transports on the same SwiftNIO runtime: UDP echo, RPC (request/reply
/// over UDP, at most once, retransmission timer), Psync (a two-participant conversation, each
/// answer sent in the context of the request) and TCP with NODELAY. The client runs here, the
/// servers in a child process (`psync bench rtt-serve`). Rounds interleave the transports so
/// that machine noise hits all alike; ratios come from the same run.
struct RTTBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rtt", abstract: "Round trip of a 1-byte message: UDP, RPC, Psync, TCP (the paper's Table 1).")

    @Option(help: "Round trips per transport, after the warm-up.") var count = 10_000
    @Option(help: "Rounds the count is split into (transports interleaved, order rotated).") var rounds = 10
    @Option(help: "Warm-up round trips per transport.") var warmup = 1_000
    @Option(help: "Write the round trips here as CSV (transport,round,nanoseconds).") var csv: String?
    @Flag(help: "Pin this process to CPU 0 and the servers to CPU 1 (taskset), every transport alike.") var pin = false
    @Option(help: "Transports to measure (comma-separated: UDP, RPC, Psync, TCP), e.g. to profile one.") var transports = "UDP,RPC,Psync,TCP"
    @Option(name: .customLong("c-floor"), help: "The C ping-pong (Tools/c/pingpong.c, built with cc): also measure plain C UDP and TCP, the floor of this machine.")
    var cFloor: String?

    func validate() throws {
        guard count >= rounds, rounds >= 1, warmup >= 0 else { throw ValidationError("need --count >= --rounds >= 1") }
        guard !selected.isEmpty, selected.count == transports.split(separator: ",").count else {
            throw ValidationError("--transports takes UDP, RPC, Psync, TCP")
        }
    }

    var selected: [RTTClients.Transport] {
        transports.split(separator: ",").compactMap { name in RTTClients.Transport.allCases.first { $0.rawValue.lowercased() == name.lowercased() } }
    }

    func run() async throws {
        if pin { try pinSelf(to: 0) }
        let ports = try LoopbackPorts.free(5)
        let server = try startServer(ports: ports)
        defer {
            // The server ends when its standard input closes (a signal may be ignored: dispositions
            // set to "ignore" are inherited).
            if let input = server.standardInput as? Pipe { try? input.fileHandleForWriting.close() }
            server.waitUntilExit()
        }
        let clients = try await RTTClients.connect(ports: ports)
        let floor = try cFloor.map { try CFloor(binary: $0, pin: pin) }
        defer { floor?.stop() }
        let transports = selected
        for t in transports { _ = try await clients.measure(t, warmup) }
        for kind in CFloor.kinds { _ = try floor?.measure(kind, warmup) }
        var samples: [String: [UInt64]] = [:]
        var rows: [String] = ["transport,round,nanoseconds"]
        for round in 0..<rounds {
            let share = count / rounds + (round < count % rounds ? 1 : 0)
            for k in transports.indices {
                let t = transports[(k + round) % transports.count]
                let latencies = try await clients.measure(t, share)
                samples[t.rawValue, default: []] += latencies
                if csv != nil { rows += latencies.map { "\(t.rawValue),\(round),\($0)" } }
            }
            for kind in CFloor.kinds {
                guard let latencies = try floor?.measure(kind, share) else { continue }
                samples[kind, default: []] += latencies
                if csv != nil { rows += latencies.map { "\(kind),\(round),\($0)" } }
            }
        }
        try await clients.close()
        print(machineDescription(pinned: pin))
        print(RTTTable(samples: samples, order: transports.map(\.rawValue) + (floor == nil ? [] : CFloor.kinds)).markdown)
        if let csv { try (rows.joined(separator: "\n") + "\n").write(toFile: csv, atomically: true, encoding: .utf8) }
    }

    func startServer(ports: [Int]) throws -> Process {
        let p = Process()
        let me = URL(fileURLWithPath: CommandLine.arguments[0]).path
        let args = ["bench", "rtt-serve", "--ports", ports.map(String.init).joined(separator: ",")]
        if pin {
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = ["taskset", "-c", "1", me] + args
        } else {
            p.executableURL = URL(fileURLWithPath: me)
            p.arguments = args
        }
        let ready = Pipe()
        p.standardOutput = ready
        p.standardInput = Pipe()  // the server ends when this process ends (its stdin closes)
        try p.run()
        guard let line = String(data: ready.fileHandleForReading.availableData, encoding: .utf8), line.hasPrefix("ready") else {
            throw ValidationError("the rtt server did not start")
        }
        return p
    }
}

/// `psync bench rtt-serve`: the servers of `psync bench rtt`, until standard input closes.
struct RTTServe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rtt-serve", abstract: "The servers of 'psync bench rtt'.",
                                                    shouldDisplay: false)

    @Option(help: "UDP echo, RPC, TCP, Psync client, Psync server ports.") var ports: String

    func run() async throws {
        let p = ports.split(separator: ",").compactMap { Int($0) }
        guard p.count == 5 else { throw ValidationError("--ports takes five ports") }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let udp = try await DatagramBootstrap(group: loop).channelInitializer { c in
            c.eventLoop.makeCompletedFuture { try c.pipeline.syncOperations.addHandler(UDPEchoServer()) }
        }.bind(host: "127.0.0.1", port: p[0]).get()
        let rpc = try await DatagramBootstrap(group: loop).channelInitializer { c in
            c.eventLoop.makeCompletedFuture { try c.pipeline.syncOperations.addHandler(RPCServer()) }
        }.bind(host: "127.0.0.1", port: p[1]).get()
        let tcp = try await ServerBootstrap(group: loop)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { c in c.eventLoop.makeCompletedFuture { try c.pipeline.syncOperations.addHandler(TCPEchoServer()) } }
            .bind(host: "127.0.0.1", port: p[2]).get()
        let node = try await PsyncNode.start(RTTClients.psyncConfig(host: 1, ports: p))
        print("ready")
        fflush(nil)
        let answering = Task { try await node.answerEveryMessage(as: ParticipantID(host: HostID(1))) }
        while readLine() != nil {}
        answering.cancel()
        try await node.shutdown()
        for c in [udp, rpc, tcp] { try? await c.close() }
        try await group.shutdownGracefully()
    }
}

/// The client ends of the four transports, each on its own event loop like a `PsyncNode`.
struct RTTClients: Sendable {
    enum Transport: String, CaseIterable, Sendable { case udp = "UDP", rpc = "RPC", psync = "Psync", tcp = "TCP" }

    let group: MultiThreadedEventLoopGroup
    let udp: NIOLoopBound<PingPong<AddressedEnvelope<ByteBuffer>>>
    let rpc: NIOLoopBound<PingPong<AddressedEnvelope<ByteBuffer>>>
    let tcp: NIOLoopBound<PingPong<ByteBuffer>>
    let channels: [Channel]
    let node: PsyncNode
    let conversation: Conversation

    static func psyncConfig(host: UInt32, ports: [Int]) throws -> NodeConfig {
        var book = PeerAddressBook()
        try book.add(HostID(0), at: .init(address: "127.0.0.1", port: ports[3]))
        try book.add(HostID(1), at: .init(address: "127.0.0.1", port: ports[4]))
        return NodeConfig(host: HostID(host), listen: book.endpoint(of: HostID(host))!, peers: book)
    }

    static func connect(ports: [Int]) async throws -> RTTClients {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        func datagram(_ kind: PingPong<AddressedEnvelope<ByteBuffer>>.Kind) async throws -> (Channel, NIOLoopBound<PingPong<AddressedEnvelope<ByteBuffer>>>) {
            let channel = try await DatagramBootstrap(group: loop).bind(host: "127.0.0.1", port: 0).get()
            let bound = try await loop.submit {
                let handler = PingPong<AddressedEnvelope<ByteBuffer>>(kind)
                try channel.pipeline.syncOperations.addHandler(handler)
                return NIOLoopBound(handler, eventLoop: loop)
            }.get()
            return (channel, bound)
        }
        let (udpChannel, udp) = try await datagram(.udp(try SocketAddress(ipAddress: "127.0.0.1", port: ports[0])))
        let (rpcChannel, rpc) = try await datagram(.rpc(try SocketAddress(ipAddress: "127.0.0.1", port: ports[1])))
        let tcpChannel = try await ClientBootstrap(group: loop).channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connect(host: "127.0.0.1", port: ports[2]).get()
        let tcp = try await loop.submit {
            let handler = PingPong<ByteBuffer>(.tcp)
            try tcpChannel.pipeline.syncOperations.addHandler(handler)
            return NIOLoopBound(handler, eventLoop: loop)
        }.get()
        let node = try await PsyncNode.start(try psyncConfig(host: 0, ports: ports))
        let pids = [ParticipantID(host: HostID(0)), ParticipantID(host: HostID(1))]
        let conversation = try await node.open(pids, as: pids[0], conversation: ConversationID(1))
        return RTTClients(group: group, udp: udp, rpc: rpc, tcp: tcp, channels: [udpChannel, rpcChannel, tcpChannel],
                          node: node, conversation: conversation)
    }

    func measure(_ t: Transport, _ count: Int) async throws -> [UInt64] {
        guard count > 0 else { return [] }
        let loop = group.next()
        switch t {
        case .udp: return try await loop.flatSubmit { [udp] in udp.value.run(count) }.get()
        case .rpc: return try await loop.flatSubmit { [rpc] in rpc.value.run(count) }.get()
        case .tcp: return try await loop.flatSubmit { [tcp] in tcp.value.run(count) }.get()
        case .psync: return try await node.roundTrips(on: conversation, count: count)
        }
    }

    func close() async throws {
        for c in channels { try? await c.close() }
        try await node.shutdown()
        try await group.shutdownGracefully()
    }
}

/// The C ping-pong servers (children) and clients (one per round): the machine's floor.
struct CFloor {
    static let kinds = ["C UDP", "C TCP"]
    let binary: String
    let ports: [String: Int]
    let servers: [Process]

    init(binary: String, pin: Bool) throws {
        self.binary = binary
        let ports = Dictionary(uniqueKeysWithValues: zip(CFloor.kinds, try LoopbackPorts.free(CFloor.kinds.count)))
        self.ports = ports
        servers = try [("C UDP", "udp-server"), ("C TCP", "tcp-server")].map { kind, mode in
            let p = Process()
            p.executableURL = URL(fileURLWithPath: pin ? "/usr/bin/env" : binary)
            p.arguments = (pin ? ["taskset", "-c", "1", binary] : []) + [mode, "\(ports[kind]!)"]
            let ready = Pipe()
            p.standardOutput = ready
            try p.run()
            guard String(decoding: ready.fileHandleForReading.availableData, as: UTF8.self).hasPrefix("ready") else {
                throw ValidationError("the C \(mode) did not start (is \(binary) built from Tools/c/pingpong.c?)")
            }
            return p
        }
    }

    /// `count` round trips with the C client (which inherits this process's CPU pinning).
    func measure(_ kind: String, _ count: Int) throws -> [UInt64] {
        guard count > 0 else { return [] }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = [kind == "C UDP" ? "udp-client" : "tcp-client", "\(ports[kind]!)", "\(count)"]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        let samples = text.split(separator: "\n").compactMap { UInt64($0) }
        guard p.terminationStatus == 0, samples.count == count else { throw ValidationError("the C \(kind) client failed") }
        return samples
    }

    /// SIGKILL, which no inherited disposition ignores, then reaped.
    func stop() {
        for p in servers {
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
        }
    }
}

/// Median, mean, standard deviation and p99 per transport, with ratios to UDP and TCP.
struct RTTTable {
    var samples: [String: [UInt64]]
    var order: [String]

    var markdown: String {
        func stats(_ xs: [UInt64]) -> (median: Double, mean: Double, sd: Double, p99: Double) {
            let s = xs.sorted().map { Double($0) / 1000 }
            let mean = s.reduce(0, +) / Double(s.count)
            let sd = (s.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(max(1, s.count - 1))).squareRoot()
            return (s[s.count / 2], mean, sd, s[min(s.count - 1, Int(Double(s.count) * 0.99))])
        }
        let all = order.filter { samples[$0]?.isEmpty == false }
        let figures = Dictionary(uniqueKeysWithValues: all.map { ($0, stats(samples[$0]!)) })
        var lines = ["| transport | round trips | median us | mean us | sd us | p99 us | median / UDP | median / TCP | median / C UDP |",
                     "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for t in all {
            let f = figures[t]!
            let ratios = ["UDP", "TCP", "C UDP"].map { base in figures[base].map { String(format: "%.2f", f.median / $0.median) } ?? "-" }
            lines.append("| \(t) | \(samples[t]!.count) | " + [f.median, f.mean, f.sd, f.p99].map { String(format: "%.1f", $0) }
                .joined(separator: " | ") + " | " + ratios.joined(separator: " | ") + " |")
        }
        return lines.joined(separator: "\n")
    }
}

/// What a reader needs to know to read the figures: cores, kernel, build, date, pinning.
func machineDescription(pinned: Bool) -> String {
    var u = utsname()
    uname(&u)
    let kernel = withUnsafeBytes(of: &u.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    #if DEBUG
    let build = "debug"
    #else
    let build = "release"
    #endif
    let date = ISO8601DateFormatter().string(from: Date())
    return "machine: \(sysconf(Int32(_SC_NPROCESSORS_ONLN))) cores, Linux \(kernel); build: \(build); \(date); "
        + (pinned ? "client on CPU 0, servers on CPU 1" : "processes not pinned")
}

/// Pins this process to `cpu` with taskset (Glibc's module does not export sched_setaffinity).
func pinSelf(to cpu: Int) throws {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = ["taskset", "-cp", "\(cpu)", "\(getpid())"]
    p.standardOutput = FileHandle.nullDevice
    try p.run()
    p.waitUntilExit()
    guard p.terminationStatus == 0 else { throw ValidationError("cannot pin to CPU \(cpu) (taskset failed)") }
}
