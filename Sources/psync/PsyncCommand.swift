import ArgumentParser

/// The `psync` command-line tool: thin commands over the toolkit's libraries.
@main
struct PsyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "psync",
        abstract: "The Psync toolkit: simulate conversations, run them over UDP, read their traces, benchmark the engine.",
        subcommands: [SimulateCommand.self, NodeCommand.self, FiltersCommand.self, TraceCommand.self, BenchCommand.self]
    )
}
