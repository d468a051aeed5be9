import ArgumentParser
import PsyncTrace
import Synchronization

/// The `psync` command tree as a library (swift-argument-parser's way): the `psync` executable is
/// `await PsyncCLI.main()`, and an outside package that registers its own filters gets the same
/// tree under its own name, so `mylab simulate --filter sequencer` runs its policy and the
/// reproduction command a failing seed prints names `mylab`:
///
/// ```swift
/// import PsyncCLI
/// import PsyncFilters
///
/// @main enum MyLab {
///     static func main() async {
///         FilterRegistry.register("sequencer", summary: "fixed-sequencer total order") { SequencerFilter() }
///         await PsyncCLI.main(commandName: "mylab")
///     }
/// }
/// ```
public enum PsyncCLI {
    private static let name = Mutex("psync")

    /// The name the tool is run as: in help, error messages and reproduction commands.
    public static var commandName: String { name.withLock { $0 } }

    /// Parses `arguments` (the process's, by default), runs the command, and exits.
    public static func main(commandName: String = "psync", arguments: [String]? = nil) async {
        name.withLock { $0 = commandName }
        await PsyncCommand.main(arguments)
    }
}

/// The root command: thin commands over the toolkit's libraries.
struct PsyncCommand: AsyncParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: PsyncCLI.commandName,
            abstract: "The Psync toolkit: simulate conversations, run them over UDP, read their traces, benchmark the engine.",
            version: "\(toolkitVersion) (trace schema \(TraceHeader.currentSchema))",
            subcommands: [SimulateCommand.self, ExploreCommand.self, NodeCommand.self, FiltersCommand.self, TraceCommand.self, BenchCommand.self]
        )
    }
}
