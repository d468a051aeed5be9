import ArgumentParser
import Dispatch
import Foundation
import Psync
import PsyncFilters
import PsyncAuth
import PsyncNIO
import PsyncSimulator
import PsyncTrace

/// `psync node`: one Psync host over UDP. Lines on standard input are sent, delivered messages
/// printed; or `--workload` runs the simulator's scripted workload, so that a real run and a
/// simulated one compare directly.
struct NodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node",
        abstract: "Run one Psync host over UDP (one process per host).",
        discussion: """
            Hosts are numbered; participant pH lives on host H. Every process of a run is given the
            same --peers list (HOST=ADDRESS:PORT,... or a file of such entries, one per line) and its
            own --me; the conversation's participants are the listed hosts, and the lowest one opens it.
            Faults are injected on outgoing datagrams (seeded): --drop, --duplicate, --delay, --reorder.
            With --trace, the process writes its own trace; `psync trace check|stats|dot A B C ...`
            merge the traces of one run. SIGINT/SIGTERM end the run cleanly (the trace gets its end record).
            Workload mode prints one summary line and exits 0 once every participant's data is here
            and stable, 1 if --timeout passes first.
            """
    )

    @Option(help: "This process's host number.") var me: UInt32
    @Option(help: "Address to bind, ADDRESS:PORT (default: this host's entry in --peers).") var listen: String?
    @Option(help: "Every host's endpoint: HOST=ADDRESS:PORT,... (this host's may be included).") var peers: String?
    @Option(name: .customLong("peers-file"), help: "A file of HOST=ADDRESS:PORT entries, one per line (# comments).") var peersFile: String?
    @Option(help: "Conversation id.") var conversation: UInt64 = 1
    @Option(help: "The application's ordering filter stack, bottom first: NAME[,NAME...] (see the 'filters' command).",
            completion: FilterStackArgument.completion) var filter: String?
    @Option(help: "Write this process's trace here.", completion: .file(extensions: ["lz4"])) var trace: String?
    @Option(help: "Seed of the injected faults, the timer jitter and the workload.") var seed: UInt64 = 1
    @Option(help: "Probability that an outgoing datagram is dropped.") var drop = 0.0
    @Option(help: "Probability that an outgoing datagram is sent twice.") var duplicate = 0.0
    @Option(help: "Delay of outgoing datagrams (const:2ms, uniform:1ms-5ms, exp:3ms). (default: const:0ns)", transform: DelayDistribution.init(parsing:))
    var delay = DelayDistribution.constant(nanoseconds: 0)
    @Option(help: "Probability that an outgoing datagram is held back so later ones overtake it.") var reorder = 0.0
    @OptionGroup var engine: EngineOptions
    @Flag(help: "Run the simulator's scripted workload instead of reading standard input.") var workload = false
    @Option(help: "Workload: data messages this participant sends.") var messages = 10
    @Option(help: "Workload: mean interval between sends. (default: 10ms)", transform: duration) var interval: UInt64 = 10_000_000
    @Option(help: "Workload: probability of replying at once to received data.") var reply = 0.0
    @Option(help: "Workload: payload bytes per message.") var payload = 32
    @Flag(name: .customLong("no-acks"), help: "Workload: do not acknowledge data after the budget is spent.") var noAcks = false
    @Flag(help: "Workload: pass a token around the hosts in order (each sends when its predecessor's data arrives).") var ring = false
    @Option(name: .customLong("settle-timeout"), help: "Workload: wait before resending data that is not stable. (default: 200ms)", transform: duration)
    var settleTimeout: UInt64 = 200_000_000
    @Option(help: "After the workload is done, keep answering peers this long before exiting. (default: 1s)", transform: duration)
    var linger: UInt64 = 1_000_000_000
    @Option(help: "Give up (exit 1) if the workload is not done by then. (default: 120s)", transform: duration) var timeout: UInt64 = 120_000_000_000
    @Option(help: "Section 5: keep this host's non-volatile log here (appended to; read back by --restart).") var log: String?
    @Option(name: .customLong("key-file"), help: "Authenticated conversations: the file's bytes are the secret (at least 16; e.g. head -c 32 /dev/urandom > key) every node of the run shares; each packet then carries an HMAC-SHA256 tag under its conversation's key, and packets without a right one are dropped and traced.",
            completion: .file())
    var keyFile: String?
    @Flag(help: "Section 5: this process replaces one that failed: its participant rejoins by re-execution, with --log's messages first (needs --workload --ring --no-acks, and on every node --log, from which it serves what it freed, or --keep-payloads).")
    var restart = false

    func validate() throws {
        guard peers != nil || peersFile != nil else { throw ValidationError("give the hosts with --peers or --peers-file") }
        if restart {
            guard workload, ring, noAcks, filterNames.isEmpty else {
                throw ValidationError("--restart re-executes the workload: it needs --workload --ring --no-acks and no --filter (a deterministic application)")
            }
        }
        for (name, p) in [("--drop", drop), ("--duplicate", duplicate), ("--reorder", reorder), ("--reply", reply)] where !(0...1).contains(p) {
            throw ValidationError("\(name) is a probability: 0...1")
        }
        guard (1...SimulationConfig.messageLimit).contains(messages) else {
            throw ValidationError("--messages must be 1...\(SimulationConfig.messageLimit)")
        }
        guard payload >= 2 && payload <= 1 << 20 else { throw ValidationError("--payload must be 2...1048576 bytes") }
        try FilterStackArgument.check(filterNames, command: "node")
    }

    var filterNames: [String] { FilterStackArgument.names(filter) }

    func addressBook() throws -> PeerAddressBook {
        var text = peers ?? ""
        if let peersFile {
            do { text += "\n" + (try String(contentsOfFile: peersFile, encoding: .utf8)) } catch {
                throw ValidationError("cannot read --peers-file \(peersFile): \(error.localizedDescription)")
            }
        }
        do { return try PeerAddressBook(parsing: text) } catch { throw ValidationError(error.description) }
    }

    func nodeConfig(_ book: PeerAddressBook) throws -> NodeConfig {
        let host = HostID(me)
        guard let endpoint = try listen.map({ text in
            guard let e = PeerAddressBook.Endpoint(parsing: text) else { throw ValidationError("--listen takes ADDRESS:PORT") }
            return e
        }) ?? book.endpoint(of: host) else { throw ValidationError("host \(me) has no endpoint: give --listen or list it in --peers") }
        let settings: JSONValue = .object([
            ("peers", .string(book.hostIDs.map { "\($0.rawValue)=\(book.endpoint(of: $0)!)" }.joined(separator: ","))),
            ("filters", .array(filterNames.map { .string($0) })), ("workload", .bool(workload)), ("ring", .bool(ring)),
            ("messages", .uint(UInt64(messages))), ("drop", .double(drop)), ("duplicate", .double(duplicate)),
            ("delay", .string(delay.description)), ("recovery", .string(engine.recovery.rawValue)),
            ("engine", .array((engine.host.engineArguments ?? []).map { .string($0) })),
            ("authenticated", .bool(keyFile != nil)),
        ])
        var config = NodeConfig(host: host, listen: endpoint, peers: book, engine: engine.host, seed: seed,
                                faults: LinkModel(delay: delay, lossProbability: drop, duplicateProbability: duplicate,
                                                  reorderProbability: reorder),
                                tracePath: trace, settings: settings)
        config.runConversation = ConversationID(conversation)
        config.runParticipants = book.hostIDs.map { ParticipantID(host: $0) }
        config.runFilters = filterNames
        config.logPath = log
        if let keyFile {
            let secret: [UInt8]
            do { secret = Array(try Data(contentsOf: URL(fileURLWithPath: keyFile))) } catch {
                throw ValidationError("cannot read --key-file \(keyFile): \(error.localizedDescription)")
            }
            do { config.authentication = try PacketAuthenticator(secret: secret) } catch {
                throw ValidationError("--key-file \(keyFile): \(error.description)")
            }
        }
        return config
    }

    func run() async throws {
        let book = try addressBook()
        try FilterStackArgument.check(filterNames, command: "node", participants: book.hostIDs.count)
        let config = try nodeConfig(book)
        let node: PsyncNode
        do { node = try await PsyncNode.start(config) } catch {
            printError("\(PsyncCLI.commandName) node: cannot start host \(me) on \(config.listen): \(error)")
            throw ExitCode(1)
        }
        let signals = SignalWatcher { name in Task { try? await node.shutdown(reason: "signal \(name)") } }
        printError("\(PsyncCLI.commandName) node: host \(me) listening on \(node.localAddress)")
        let participants = book.hostIDs.map { ParticipantID(host: $0) }
        let me = ParticipantID(host: HostID(self.me))
        let filters: FilterChoice = filterNames.isEmpty ? .none : .names(filterNames)
        let cid = ConversationID(conversation)
        if workload {
            try await runWorkload(node, participants: participants, me: me, filters: filters, cid: cid, signals: signals)
        } else {
            try await runInteractive(node, participants: participants, me: me, filters: filters, cid: cid)
        }
    }

    func runWorkload(_ node: PsyncNode, participants: [ParticipantID], me: ParticipantID, filters: FilterChoice,
                     cid: ConversationID, signals: SignalWatcher) async throws {
        let w = Workload(messagesPerParticipant: messages, meanIntervalNanoseconds: interval, replyProbability: reply,
                         payloadBytes: payload, acknowledges: !noAcks, settleTimeoutNanoseconds: settleTimeout,
                         pattern: ring ? .ring : nil)
        let deadline = Task {
            try await Task.sleep(nanoseconds: timeout)
            try? await node.shutdown(reason: "timeout")
        }
        let outcome: WorkloadOutcome
        do {
            outcome = try await node.runWorkload(w, conversation: cid, participants: participants, as: me, filters: filters, seed: seed,
                                                 restart: restart)
        } catch {
            let why = signals.received ?? "not done after --timeout \(formatDuration(timeout)) (\(error))"
            printError("\(PsyncCLI.commandName) node: host \(me.host.rawValue): workload stopped: \(why)")
            try? await node.shutdown(reason: "stopped: \(why)")
            throw ExitCode(signals.received == nil ? 1 : 130)
        }
        deadline.cancel()
        let (counters, engine) = try await node.counters()
        let data = outcome.deliveries.filter { Workload.isData($0.payload) }.count
        let seconds = Double(outcome.elapsedNanoseconds) / 1e9
        print("host \(me.host.rawValue): done: \(data) data messages delivered from others in \(String(format: "%.3f", seconds)) s "
              + "(\(String(format: "%.0f", Double(data) / seconds)) per second); sent \(outcome.dataSent) data, "
              + "\(outcome.acknowledgementsSent) acks; datagrams out \(counters.datagramsSent), in \(counters.datagramsReceived), "
              + "injected losses \(counters.injectedLosses); engine requests \(engine.retransmitRequestsSent)")
        try await Task.sleep(nanoseconds: linger)
        try await node.shutdown(reason: "done")
    }

    /// Lines on standard input are sent; deliveries are printed as `SENDER MID: TEXT`.
    func runInteractive(_ node: PsyncNode, participants: [ParticipantID], me: ParticipantID, filters: FilterChoice,
                        cid: ConversationID) async throws {
        let conversation = participants.first == me
            ? try await node.open(participants, as: me, conversation: cid, filters: filters)
            : try await node.waitForConversation(as: me, filters: filters)
        let printer = Task {
            for await d in conversation.messages {
                print("\(d.sender) \(d.id): \(String(decoding: d.payload, as: UTF8.self))")
                fflush(nil)
            }
        }
        let lines = AsyncStream<String> { continuation in
            Thread.detachNewThread {
                while let line = readLine() { continuation.yield(line) }
                continuation.finish()
            }
        }
        let sending = Task {
            for await line in lines { _ = try? await conversation.send(Array(line.utf8)) }
        }
        // After the end of input the node keeps serving (answering its peers' requests) until a
        // signal shuts it down, which ends the message stream and so the printer.
        await printer.value
        sending.cancel()
        await node.waitUntilShutDown()
    }
}

/// SIGINT and SIGTERM as requests to end the run cleanly (the trace gets its end record).
final class SignalWatcher: @unchecked Sendable {
    private let sources: [DispatchSourceSignal]
    private let lock = NSLock()
    private var name: String?

    init(_ handler: @escaping @Sendable (String) -> Void) {
        let signals = [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM")]
        sources = signals.map { number, _ in
            signal(number, SIG_IGN)
            return DispatchSource.makeSignalSource(signal: number, queue: .global())
        }
        for (source, (_, name)) in zip(sources, signals) {
            source.setEventHandler { [unowned self] in
                self.lock.withLock { self.name = name }
                handler(name)
            }
            source.resume()
        }
    }

    /// The signal that ended the run, if one did.
    var received: String? { lock.withLock { name } }
}
