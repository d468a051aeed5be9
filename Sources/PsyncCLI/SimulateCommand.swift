import ArgumentParser
import Psync
import PsyncFilters
import PsyncSimulator
import PsyncTrace

/// `psync simulate`: one seeded simulated conversation, with a short summary.
struct SimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Run one simulated conversation and print a summary.",
        discussion: """
            Delays: const:2ms, uniform:1ms-5ms, exp:3ms (mean) or exp:1ms+3ms (base plus mean). \
            Partitions: --partition 0,1@100ms-300ms cuts hosts 0 and 1 off from the others from \
            100 ms until 300 ms. Crashes: --crash 2@50ms. Both may be repeated.

            The same arguments always give the same run; exit status 1 if a checker fails, and the \
            command that reproduces the run is printed.

            On a terminal, a long run shows its progress on stderr; Ctrl-C or SIGTERM stops it \
            between two events, ends its trace with an end record that says so and prints the \
            summary so far, without checks (exit status 130).
            """
    )

    @Option(help: "Seed of every random choice in the run.") var seed: UInt64 = 1
    @Option(help: "Number of participants, one per host.") var participants = 3
    @Option(help: "Data messages each participant sends.") var messages = 10
    @Option(help: "Mean interval between a participant's sends. (default: 10ms)", transform: duration) var interval: UInt64 = 10_000_000
    @Option(help: "Probability of replying at once to received data.") var reply = 0.0
    @Option(help: "Payload bytes per message.") var payload = 32
    @Option(help: "One-way delay distribution. (default: uniform:1ms-3ms)", transform: DelayDistribution.init(parsing:)) var delay = DelayDistribution.uniform(lowNanoseconds: 1_000_000, highNanoseconds: 3_000_000)
    @Option(help: "Probability that a packet is lost.") var loss = 0.0
    @Option(help: "Probability that a packet is duplicated.") var duplicate = 0.0
    @Option(help: "Probability that a packet is delayed so that later ones overtake it.") var reorder = 0.0
    @Option(name: .customLong("reorder-delay"), help: "Largest extra delay of a reordered packet. (default: 10ms)", transform: duration) var reorderDelay: UInt64 = 10_000_000
    @Option(name: .customLong("settle-timeout"), help: "Wait, after data last arrived, before resending data that is not stable. (default: 200ms)", transform: duration) var settleTimeout: UInt64 = 200_000_000
    @Option(name: .customLong("settle-attempts"), help: "Rounds of resends of data that is not stable.") var settleAttempts = 12
    @Option(help: "A partition, HOSTS@START-HEAL (repeatable).", transform: Partition.init(parsing:)) var partition: [Partition] = []
    @Option(help: "A host crash, HOST@TIME (repeatable).", transform: Crash.init(parsing:)) var crash: [Crash] = []
    @Option(help: "A crashed host comes back, HOST@TIME[:reexecute|:checkpoint][:log] (Section 5; needs --ring --no-acks and no filter, or --replicated; every host then keeps a log of what it collected and serves freed messages from it).",
            transform: HostRestart.init(parsing:))
    var restart: [HostRestart] = []
    @Flag(help: "Authenticated conversation: every packet carries an HMAC-SHA256 tag under the conversation's key (from a secret the seed gives); packets that fail are dropped and traced as 'unauthenticated'.")
    var authenticate = false
    @Option(help: "An adversary without the key, KIND:HOST@TIME (repeatable): forge (a message claiming to come from another participant), alter (the next data packet to HOST changed in flight), replay (the newest data packet seen, again).",
            transform: Attack.init(parsing:))
    var attack: [Attack] = []
    @Option(help: "Fraction of data messages that are non-commutative operations (for the commutative filter).") var beta = 0.0
    @Flag(name: .customLong("no-acks"), help: "Do not acknowledge data after the budget is spent.") var noAcks = false
    @Flag(help: "Pass a token around the participants: each sends its next data message when its predecessor's arrives (--interval and --reply unused).") var ring = false
    @Flag(help: "A replicated state machine over a total-order stack: each participant sends its next command once its previous one is delivered back, applies every delivered command, and the replicas are compared at the end (--interval, --reply and --no-acks unused).") var replicated = false
    @Flag(name: .customLong("no-check"), help: "Skip the checkers (they keep every participant's history).") var noCheck = false
    @Flag(help: "Swarm testing: draw every option (participants, workload, faults, filter stack) from the seed; the other run options are ignored. A failing run is shrunk to a smaller configuration that still fails, printed as a command.")
    var swarm = false
    @Option(help: "With --swarm, run this many seeds from --seed on and report how many failed.") var runs = 1
    @Option(help: "Write the run's trace here (LZ4 frames of JSON Lines; see Traces/FORMAT.md).", completion: .file(extensions: ["lz4"])) var trace: String?
    @Option(help: "The application's ordering filter stack, bottom first: NAME[,NAME...] (see the 'filters' command).",
            completion: FilterStackArgument.completion) var filter: String?
    @OptionGroup var engine: EngineOptions

    func validate() throws {
        guard runs >= 1, swarm || runs == 1 else { throw ValidationError("--runs needs --swarm, and at least 1") }
        guard runs == 1 || trace == nil else { throw ValidationError("--trace writes one run: drop it or --runs") }
        try FilterStackArgument.check(filterNames, command: "simulate", participants: participants)
        // The rest of what makes a run impossible is the configuration's to say: the same
        // checks refuse an edited trace header (`psync trace replay --verify`).
        if let problem = config.problems().first { throw ValidationError(problem) }
    }

    var filterNames: [String] { FilterStackArgument.names(filter) }

    var config: SimulationConfig {
        SimulationConfig(
            seed: seed, participants: participants,
            workload: Workload(messagesPerParticipant: messages, meanIntervalNanoseconds: interval,
                               replyProbability: reply, payloadBytes: payload, acknowledges: !noAcks,
                               settleTimeoutNanoseconds: settleTimeout, settleAttempts: settleAttempts, betaFraction: beta,
                               pattern: ring ? .ring : replicated ? .replicated : nil),
            network: NetworkModel(link: LinkModel(delay: delay, lossProbability: loss, duplicateProbability: duplicate,
                                                  reorderProbability: reorder, reorderDelayMaxNanoseconds: reorderDelay)),
            faults: FaultSchedule(partitions: partition, crashes: crash, restarts: restart, attacks: attack), host: engine.host,
            recordsHistory: !noCheck, filters: filterNames, authenticated: authenticate)
    }

    func run() throws {
        if swarm && runs > 1 { return try runSwarm() }
        let config = swarm ? Swarm.config(seed: seed) : self.config
        if swarm { print("swarm seed \(seed): \(config.reproductionCommand(tool: PsyncCLI.commandName))") }
        let writer = try trace.map { path throws(TraceError) in try LZ4TraceWriter(path: path) }
        let simulator = Simulator(config, trace: writer)
        let progress = ProgressLine.make()
        simulator.onProgress = progress.map { line in line.update }
        simulator.shouldStop = { Interruption.requested }
        let result = Interruption.catching { simulator.run() }
        progress?.clear()
        try writer?.close()
        print(SimulationSummary(result).text)
        if let writer, let trace {
            print("trace:                \(trace): \(writer.recordsWritten) records, \(writer.compressedBytes) bytes in \(writer.frames) frames (\(writer.uncompressedBytes) uncompressed)")
        }
        if result.interruptedAtNanoseconds != nil {
            print("checks: skipped, the run was interrupted (Ctrl-C or SIGTERM)")
            throw ExitCode(130)
        }
        guard !noCheck else { return }
        let violations = Checker.check(result) + FilterChecker.check(result)
        if violations.isEmpty {
            print("checks: images converge, receive order respects context, graphs are transitive reductions\(config.faults.restarts.isEmpty ? "" : ", restarted participants hold every message that survived (Section 5.1)")\(config.filters.isEmpty ? "" : ", filters keep their promises"): ok")
        } else {
            for v in violations.prefix(20) { print("violation: \(v)") }
            print("seed \(seed) failed; reproduce with: \(config.reproductionCommand(tool: PsyncCLI.commandName))")
            if swarm { print("shrunk: \(Swarm.shrink(config).reproductionCommand(tool: PsyncCLI.commandName))") }
            throw ExitCode(1)
        }
    }
}

extension SimulateCommand {
    /// `--swarm --runs N`: seeds `seed..<seed+N`, one line per failure (with its shrunk
    /// configuration), progress every 100 runs on a terminal's stderr, and the count.
    func runSwarm() throws {
        var failed: [UInt64] = []
        for s in seed..<(seed + UInt64(runs)) {
            let config = Swarm.config(seed: s)
            let violations = Swarm.violations(config)
            if !violations.isEmpty {
                failed.append(s)
                print("swarm seed \(s) failed: \(violations.prefix(3).map(\.description).joined(separator: "; "))")
                print("  reproduce: \(PsyncCLI.commandName) simulate --swarm --seed \(s)")
                print("  shrunk:    \(Swarm.shrink(config).reproductionCommand(tool: PsyncCLI.commandName))")
            }
            let done = Int(s - seed) + 1
            if done % 100 == 0 { printError("swarm: \(done) of \(runs) runs, \(failed.count) failed") }
        }
        print("swarm: \(runs) runs from seed \(seed), \(failed.count) failed" + (failed.isEmpty ? "" : ": seeds \(failed.map(String.init).joined(separator: ", "))"))
        if !failed.isEmpty { throw ExitCode(1) }
    }
}
