import ArgumentParser
import Psync
import PsyncAnalysis
import PsyncFilters
import PsyncSimulator
import PsyncTrace
#if canImport(Glibc)
import Glibc
#endif

/// `psync trace`: tools over trace files.
struct TraceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace", abstract: "Read, check, draw and measure trace files.",
        discussion: """
            Exit status, the same for every subcommand: 0 the trace was read whole and shows nothing \
            wrong; 1 it shows a violation (check), or a re-run differs (replay --verify); 2 the tool \
            cannot read it, cannot tell or cannot write its output: not a trace, damaged, records out of time order, a \
            configuration that cannot run, or no end record (the process was killed). With 2, the \
            output covers the records read and standard error says why. A command line that cannot \
            run exits 64.
            """,
        subcommands: [TraceCat.self, TraceCheck.self, TraceDot.self, TraceStats.self, TraceReplay.self,
                      TraceCompare.self, TraceExportCommand.self])
}

/// The argument of the commands that read a run: one trace, or the per-process traces of one
/// real run, which they read merged into one stream (`TraceMerge`).
let traceFilesHelp = ArgumentHelp(
    "A trace file, or the per-process traces of one real run (merged into one stream).",
    valueName: "file")

/// `psync trace cat FILE...`: the trace as JSON Lines, like `lz4 -dc FILE`, but checked: every
/// record is decoded and re-encoded, and damage is reported with its byte offset. Given a real
/// run's per-process traces, it prints their merged stream: what the other tools read.
struct TraceCat: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cat", abstract: "Print a trace as JSON Lines (exit 2 if it is damaged or incomplete).",
        discussion: """
            Given several files (the per-process traces of one real run), prints their merged stream, \
            the one check, dot, stats and export read; notes on the merge go to standard error.
            """)

    @Argument(help: traceFilesHelp, completion: .file(extensions: ["lz4"])) var files: [String]

    func run() throws {
        let outcome: TraceStream.Outcome
        do {
            outcome = try TraceStream.read(files) { print($0.jsonLine) }
        } catch {
            printError("\(PsyncCLI.commandName) trace cat: \(error)")
            throw ExitCode(2)
        }
        printNotes(outcome)
        try exitIfIncomplete(outcome, "trace cat", done: "printed")
    }
}

func printError(_ message: String) {
    var standardError = StandardError()
    print(message, to: &standardError)
}

struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        _ = string.withCString { Glibc.write(2, $0, strlen($0)) }
    }
}

/// `psync trace check FILE...`: exit 0 valid, 1 invalid (with witnesses), 2 cannot tell.
struct TraceCheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "Check a trace: receive order, stability, total orders, convergence.",
        discussion: "Exit status: 0 valid, 1 invalid (a witness is printed for each violation), 2 cannot tell (the trace is damaged, or has no end record: the run was cut short).")

    @Argument(help: traceFilesHelp, completion: .file(extensions: ["lz4"])) var files: [String]

    func run() throws {
        var checker = TraceChecker()
        let outcome = try readOrExit(files) { checker.observe($0) }
        // A counterexample stops where a property broke: its violations count, but what holds
        // only at quiescence (convergence) cannot be asked of it.
        let verdict = checker.finish(complete: outcome.complete && !outcome.isCounterexample,
                                     readError: outcome.isCounterexample ? "a model checker's counterexample ends before quiescence" : outcome.incompleteness)
        for v in checker.violations { print("violation: \(v)") }
        if checker.violationCount > checker.violations.count { print("... \(checker.violationCount - checker.violations.count) more") }
        switch verdict {
        case .valid:
            let learned = checker.graph.learned.count
            print("valid: \(outcome.records) records, \(checker.graph.messages.count) messages"
                  + (learned > 0 ? " (\(learned) known from arrivals only: their senders' traces lost them)" : "")
                  + ", \(checker.graph.participantCount) participants")
        case .invalid:
            print("invalid: \(checker.violationCount) violations in \(outcome.records) records")
            throw ExitCode(1)
        case .undetermined(let why):
            print("cannot tell: \(why); no violation in the \(outcome.records) records read")
            throw ExitCode(2)
        }
    }
}

/// `psync trace dot FILE...`: the context graph as Graphviz DOT.
struct TraceDot: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dot", abstract: "Draw the context graph as Graphviz DOT (render with dot -Tpdf).")

    @Argument(help: traceFilesHelp, completion: .file(extensions: ["lz4"])) var files: [String]
    @Option(name: .shortAndLong, help: "Write the DOT here instead of standard output.") var output: String?
    @Option(help: "Draw participant PID's view (e.g. p2): messages outside it are greyed.") var view: String?
    @Option(help: ArgumentHelp("Draw the run as it was at this moment (e.g. 300ms): the graph, views, stability and waves of the records up to it.", valueName: "time"))
    var at: String?
    @Option(help: "Only messages A through B in send order (1-based), as A..B; edges to or from messages outside end in grey stubs.") var range: String?
    @Flag(name: .customLong("data-only"), help: "Hide acknowledgements and filter control messages (edges through them are contracted).")
    var dataOnly = false
    @Option(help: "lanes (a lane per participant, time left to right) or paper (top-down, as the paper's Figures 1 and 2).")
    var layout: DotExporter.Layout = .lanes
    @Option(help: "A title above the picture.") var title: String?

    func validate() throws {
        if let view, ParticipantID(label: view) == nil { throw ValidationError("--view takes a participant such as p2 or p2.1") }
        if let range, parseRange(range) == nil { throw ValidationError("--range takes A..B with 1 <= A <= B") }
        if let at { do { _ = try duration(at) } catch { throw ValidationError("--at \(error)") } }
    }

    func run() throws {
        var exporter = DotExporter(at: at.flatMap(parseDuration))
        let outcome = try readOrExit(files) { exporter.observe($0) }
        let options = DotExporter.Options(view: view.flatMap(ParticipantID.init(label:)), range: range.flatMap(parseRange), title: title,
                                          dataOnly: dataOnly, layout: layout)
        if let why = exporter.problem(with: options) {
            printError("\(PsyncCLI.commandName) trace dot: \(why)")
            throw ExitCode(2)
        }
        let text = exporter.dot(options)
        if let output {
            do { try writeText(text, to: output) } catch { printError("\(PsyncCLI.commandName) trace dot: \(error)"); throw ExitCode(2) }
        } else {
            print(text, terminator: "")
        }
        try exitIfIncomplete(outcome, "trace dot", done: "drew")
    }
}

extension DotExporter.Layout: ExpressibleByArgument {}

/// `psync trace stats FILE...`: latency distributions and counts.
struct TraceStats: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats", abstract: "Latency percentiles (HdrHistogram) and counts from a trace.",
        discussion: """
            csv is tidy: a row per metric and group (kind latency), per counter (count) and per ratio \
            (derived), each with the run's seed, filters, recovery, loss, participants and messages, \
            so the CSVs of many runs concatenate. hgrm (HdrHistogram's percentile distribution) and \
            hlog (HdrHistogram's compressed histogram log, which the Python hdrh package reads) write \
            one file per metric into the directory -o names, or one metric (--metric) to standard output.
            """)

    @Argument(help: traceFilesHelp, completion: .file(extensions: ["lz4"])) var files: [String]
    @Option(help: "table, csv, json, hgrm or hlog.") var format: TraceStatistics.Format = .table
    @Option(name: .shortAndLong, help: "Write here instead of standard output: a file, or for hgrm and hlog a directory (one file per metric).")
    var output: String?
    @Option(help: "Only this metric (hgrm and hlog), e.g. deliver:waves:data.") var metric: String?

    func validate() throws {
        if format.perMetric, output == nil, metric == nil {
            throw ValidationError("--format \(format.rawValue) writes one file per metric: give -o DIRECTORY, or --metric NAME for one on standard output")
        }
        if metric != nil, !format.perMetric { throw ValidationError("--metric goes with --format hgrm or hlog") }
    }

    func run() throws {
        var stats = TraceStatistics()
        let outcome = try readOrExit(files) { stats.observe($0) }
        do {
            if let metric {
                guard stats.metrics[metric] != nil else {
                    throw ValidationError("the trace has no metric \(metric) (it has \(stats.metricNames.joined(separator: ", ")))")
                }
                try write(stats.report(format, metric: metric), to: output)
            } else if format.perMetric, let directory = output {
                guard mkdir(directory, 0o755) == 0 || errno == EEXIST else { throw ValidationError("cannot create the directory \(directory)") }
                for (name, text) in stats.files(format) { try writeText(text, to: directory + "/" + name) }
            } else {
                try write(stats.report(format), to: output)
            }
        } catch {
            printError("\(PsyncCLI.commandName) trace stats: \(error)")
            throw ExitCode(2)
        }
        try exitIfIncomplete(outcome, "trace stats", done: "gave the statistics of")
    }

    func write(_ text: String, to path: String?) throws {
        if let path { try writeText(text, to: path) } else { print(text, terminator: "") }
    }
}

extension TraceStatistics.Format: ExpressibleByArgument {}

func parseRange(_ text: String) -> ClosedRange<Int>? {
    let parts = text.split(separator: "..", omittingEmptySubsequences: false)
    guard parts.count == 2, let a = Int(parts[0]), let b = Int(parts[1]), a >= 1, a <= b else { return nil }
    return a...b
}

/// Streams a trace, or merges a real run's per-process traces; a file that cannot be read at
/// all, or files that cannot be merged, are a clear error and exit status 2. Notes on the merge
/// go to standard error.
func readOrExit(_ files: [String], _ body: (TraceEvent) -> Void) throws -> TraceStream.Outcome {
    let outcome: TraceStream.Outcome
    do {
        outcome = try TraceStream.read(files, body)
    } catch {
        printError("\(PsyncCLI.commandName): \(error)")
        throw ExitCode(2)
    }
    printNotes(outcome)
    return outcome
}

func printNotes(_ outcome: TraceStream.Outcome) {
    for note in outcome.notes { printError("\(PsyncCLI.commandName): note: \(note)") }
}

/// After a tool's output: a trace that does not show a whole run (damaged, or without its end
/// record) is said so on standard error, with what the output covers, and exit status 2:
/// the tool cannot tell what the rest of the run did.
func exitIfIncomplete(_ outcome: TraceStream.Outcome, _ command: String, done: String) throws {
    guard let why = outcome.incompleteness else { return }
    printError("\(PsyncCLI.commandName) \(command): \(why); \(done) the \(outcome.records) records read")
    throw ExitCode(2)
}

func writeText(_ text: String, to path: String) throws {
    guard let f = fopen(path, "w") else { throw ValidationError("cannot write \(path)") }
    defer { fclose(f) }
    guard fputs(text, f) >= 0 else { throw ValidationError("cannot write \(path)") }
}

/// `psync trace replay FILE --verify`: re-run the simulation and compare event for event.
struct TraceReplay: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay", abstract: "Re-run the simulation a trace describes.",
        discussion: "--verify compares the re-run with the trace, record for record, and prints the first difference (exit 1).")

    @Argument(help: "A trace file written by a simulation.", completion: .file(extensions: ["lz4"])) var file: String
    @Flag(help: "Confirm that re-running reproduces the trace exactly.") var verify = false
    @Option(help: "Counterfactual replay: what this filter stack (NAME[,NAME...], bottom first) would have delivered.",
            completion: FilterStackArgument.completion) var filter: String?
    @Flag(help: "Print every record with the state it leaves: holding queues and views.") var step = false
    @Option(help: "With --step, stop after this many records.") var limit: Int?

    func validate() throws {
        guard [verify, filter != nil, step].filter({ $0 }).count == 1 else {
            throw ValidationError("say what to do: one of --verify, --filter STACK, --step")
        }
        try FilterStackArgument.check(filterNames, command: "trace replay")
    }

    var filterNames: [String] { FilterStackArgument.names(filter) }

    func run() throws {
        if filter != nil { return try counterfactual() }
        if step { return try stepThrough() }
        do {
            switch try ReplayVerifier.verify(file) {
            case .identical(let n):
                print("identical: the re-run reproduces all \(n) records")
            case .diverged(let d):
                print("diverged at record \(d.record):")
                print("  trace:  \(d.inTrace ?? "(ends here)")")
                print("  re-run: \(d.inReplay ?? "(ends here)")")
                throw ExitCode(1)
            }
        } catch let failure as ReplayVerifier.Failure {
            printError("\(PsyncCLI.commandName) trace replay: \(file): \(failure)")
            throw ExitCode(2)
        }
    }
}

/// `psync trace export FILE... --format perfetto|shiviz`.
struct TraceExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Export a run for Perfetto / chrome://tracing, or for ShiViz.")

    enum Format: String, ExpressibleByArgument, CaseIterable { case perfetto, shiviz }

    @Argument(help: traceFilesHelp, completion: .file(extensions: ["lz4"])) var files: [String]
    @Option(help: "perfetto (trace-event JSON) or shiviz (log with vector clocks).") var format: Format
    @Option(name: .shortAndLong, help: "Write here instead of standard output.") var output: String?

    func run() throws {
        var exporter: any TraceExporter = format == .perfetto ? PerfettoExport() : ShivizExport()
        var file: UnsafeMutablePointer<FILE>?
        if let output {
            guard let f = fopen(output, "w") else { printError("\(PsyncCLI.commandName) trace export: cannot write \(output)"); throw ExitCode(2) }
            file = f
        }
        defer { if let file { fclose(file) } }
        let emit = { (text: String) in if let file { fputs(text, file) } else { print(text, terminator: "") } }
        let outcome = try readOrExit(files) { e in emit(exporter.observe(e)) }
        emit(exporter.finish())
        try exitIfIncomplete(outcome, "trace export", done: "exported")
    }
}

/// `psync trace compare A B ...`: the statistics of several runs side by side. A run recorded
/// as one trace per process is given as its files joined by commas, and read merged.
struct TraceCompare: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare", abstract: "Compare the statistics of two or more traces, with ratios to the first.",
        discussion: "A real run's per-process traces are one run: give them as FILE,FILE,... (merged into one stream).")

    @Argument(help: "Traces, one run each (FILE or FILE,FILE,...): two or more, or one with --filter.",
              completion: .file(extensions: ["lz4"])) var files: [String]
    @Option(help: "Also replay the (first) trace under this filter stack, NAME[,NAME...] (repeatable).",
            completion: FilterStackArgument.completion) var filter: [String] = []

    /// The files of one run argument.
    static func paths(_ run: String) -> [String] { run.split(separator: ",").map(String.init) }

    func validate() throws {
        guard files.count + filter.count >= 2 else { throw ValidationError("give two or more traces, or one and --filter STACK") }
        // Counterfactual replay reads one trace file (as `psync trace replay --filter` does).
        if !filter.isEmpty, Self.paths(files[0]).count != 1 {
            throw ValidationError("--filter replays one trace file; the first run is several (\(files[0]))")
        }
        for stack in filter { try FilterStackArgument.check(FilterStackArgument.names(stack), command: "trace compare") }
    }

    func run() throws {
        var runs: [(String, TraceStatistics)] = []
        var incomplete: [TraceStream.Outcome] = []
        for run in files {
            var stats = TraceStatistics()
            let outcome = try readOrExit(Self.paths(run)) { stats.observe($0) }
            if !outcome.complete { incomplete.append(outcome) }
            runs.append((run, stats))
        }
        for stack in filter {
            let names = FilterStackArgument.names(stack)
            do {
                let (stats, replay, _) = try CounterfactualReplay.statistics(files[0], filters: names)
                runs.append(("replay: \(stack)", stats))
                print("replay under \(stack): \(replay.exactness)")
            } catch {
                printError("\(PsyncCLI.commandName) trace compare: \(files[0]): \(error)")
                throw ExitCode(2)
            }
        }
        print(TraceComparison(runs).table, terminator: "")
        for outcome in incomplete { try exitIfIncomplete(outcome, "trace compare", done: "compared") }
    }
}

extension TraceReplay {
    func counterfactual() throws {
        let result: (TraceStatistics, CounterfactualReplay, TraceStream.Outcome)
        do { result = try CounterfactualReplay.statistics(file, filters: filterNames) } catch {
            printError("\(PsyncCLI.commandName) trace replay: \(file): \(error)")
            throw ExitCode(2)
        }
        let (stats, replay, outcome) = result
        print("counterfactual replay of \(file) under \(filterNames.joined(separator: ","))")
        print(replay.exactness)
        print(stats.report(.table), terminator: "")
        try exitIfIncomplete(outcome, "trace replay", done: "replayed")
    }

    func stepThrough() throws {
        var stepper = TraceStepper()
        var shown = 0
        let interactive = isatty(0) != 0
        let outcome = try readOrExit([file]) { e in
            guard limit.map({ shown < $0 }) ?? true else { return }
            shown += 1
            print(stepper.step(e))
            if interactive, readLine() == "q" { shown = limit ?? Int.max }
        }
        try exitIfIncomplete(outcome, "trace replay", done: "stepped through")
    }
}
