import ArgumentParser
import Foundation
import Psync
import PsyncFilters
import PsyncSimulator
import PsyncTrace

/// `psync explore`: model checking of a small scope (`Explorer`, `ExploredRun`).
struct ExploreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explore",
        abstract: "Explore every ordering of a small conversation and check every state.",
        discussion: """
            Every order in which packets may arrive, with at most --losses lost, --duplicates \
            duplicated and --crashes participants crashed anywhere, every moment each participant \
            may send, and the timers in deadline order once nothing is in flight. Every state is \
            checked as the simulator's checkers check a run (receive order, each filter's \
            promises; at quiescence convergence and completeness). States are told apart by a \
            fingerprint of the hosts, the filters and what is in flight; sleep sets skip orders \
            that commute.

            Exit status 0 when the scope was explored completely without a violation, 1 with a \
            violation (the shortest path to it is printed, and written with --trace and --test), \
            3 when a limit stopped the search first.
            """
    )

    @Option(help: "Number of participants, one per host.") var participants = 3
    @Option(help: "Data messages each participant sends.") var messages = 2
    @Option(help: "The filter stack, bottom first: NAME[,NAME...] (see the 'filters' command).",
            completion: FilterStackArgument.completion) var filter: String?
    @Option(help: "At most this many packets lost.") var losses = 0
    @Option(help: "At most this many packets duplicated.") var duplicates = 0
    @Option(help: "At most this many participants crashed.") var crashes = 0
    @Flag(help: "Links keep order: each packet in its turn arrives, is lost or is duplicated (a smaller model than the paper's reordering network).")
    var fifo = false
    @Flag(name: .customLong("no-acks"), help: "The workload does not acknowledge data after its budget is spent.") var noAcks = false
    @Option(name: .customLong("settle-attempts"), help: "Rounds of resends of data that is not stable after a participant's budget is spent (see 'simulate').")
    var settleAttempts = 1
    @Flag(help: "Token passing around the participants (see 'simulate --ring').") var ring = false
    @Flag(help: "A replicated state machine over a total-order stack (see 'simulate --replicated').") var replicated = false
    @Option(name: .customLong("max-states"), help: "Stop after this many states.") var maxStates: Int?
    @Option(name: .customLong("max-depth"), help: "Do not go deeper than this many steps.") var maxDepth: Int?
    @Flag(name: .customLong("no-reduction"), help: "No partial-order reduction: slower, and counterexamples are the shortest there are.")
    var noReduction = false
    @Option(help: "Write a violation's trace here (LZ4 frames of JSON Lines).", completion: .file(extensions: ["lz4"])) var trace: String?
    @Option(help: "Write a violation's scenario test (Swift Testing) here.", completion: .file(extensions: ["swift"])) var test: String?
    @OptionGroup var engine: EngineOptions

    func validate() throws {
        guard participants >= 2 else { throw ValidationError("--participants must be at least 2") }
        guard settleAttempts >= 0 else { throw ValidationError("--settle-attempts cannot be negative") }
        guard messages >= 1 else { throw ValidationError("--messages must be at least 1") }
        guard losses >= 0, duplicates >= 0, crashes >= 0 else { throw ValidationError("fault budgets cannot be negative") }
        guard crashes < participants else { throw ValidationError("--crashes must leave a participant running") }
        guard !(ring && replicated) else { throw ValidationError("--ring and --replicated exclude each other") }
        if let maxStates, maxStates < 1 { throw ValidationError("--max-states must be at least 1") }
        if let maxDepth, maxDepth < 1 { throw ValidationError("--max-depth must be at least 1") }
        let names = FilterStackArgument.names(filter)
        try FilterStackArgument.check(names, command: "explore", participants: participants)
        if let problem = scope.simulation.problems().first { throw ValidationError(problem) }
    }

    var scope: ExplorationScope {
        ExplorationScope(participants: participants, messagesPerParticipant: messages, filters: FilterStackArgument.names(filter),
                         pattern: ring ? .ring : replicated ? .replicated : nil, acknowledges: !noAcks, settleAttempts: settleAttempts,
                         losses: losses, duplicates: duplicates, crashes: crashes, fifo: fifo, host: engine.host)
    }

    func run() throws {
        let scope = self.scope
        print("exploring \(scope.description)")
        fflush(nil)
        let explorer = ExploredRun.explorer(scope, limits: ExplorationLimits(maxStates: maxStates, maxDepth: maxDepth, reduction: !noReduction))
        let progress = ProgressLine.make()
        explorer.onProgress = progress.map { line in { line.update("exploring: \($0.states) states, \($0.transitions) transitions, depth \($0.depth)") } }
        let report = explorer.run()
        progress?.clear()
        print(report.description)
        if let (actions, violations) = report.counterexample {
            let found = Counterexample(scope: scope, steps: actions.map(\.description), violations: violations)
            let command = ([PsyncCLI.commandName] + CommandLine.arguments.dropFirst()).joined(separator: " ")
            if let trace {
                let writer = try LZ4TraceWriter(path: trace)
                found.record(to: writer)
                try writer.close()
                print("trace: \(trace) (psync trace dot, psync trace replay --step)")
            }
            if let test {
                try found.scenarioTest(command: command).write(toFile: test, atomically: true, encoding: .utf8)
                print("scenario test: \(test)")
            }
            throw ExitCode(1)
        }
        if !report.exhaustive { throw ExitCode(3) }
    }
}
