import ArgumentParser

/// The `psync` command-line tool: thin commands over the toolkit's libraries.
@main
struct PsyncCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "psync",
        abstract: "The Psync toolkit: simulate conversations and benchmark the engine.",
        subcommands: [SimulateCommand.self, FiltersCommand.self, TraceCommand.self, BenchCommand.self]
    )
}
