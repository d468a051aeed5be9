import ArgumentParser

/// `psync bench`: benchmarks that print figures and ratios against a baseline from the same run.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Benchmarks.", subcommands: [EngineBench.self, TraceBench.self, ToolsBench.self, RecoveryBench.self, RTTBench.self, RTTServe.self, TokenBench.self, TokenPeer.self, MemoryBench.self, MemoryRun.self, AuthBench.self])
}
