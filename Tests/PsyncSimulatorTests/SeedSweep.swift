import Testing
import PsyncSimulator

/// A property test over seeds: each configuration runs, every checker judges it (besides
/// images that differ and what `extra` finds), and a failing seed is reported with the command
/// that reproduces it.
enum SeedSweep {
    /// What is wrong with `config`'s run, as one line with its reproduction command; nil if
    /// nothing is.
    static func failure(_ config: SimulationConfig, _ extra: (SimulationResult) -> [String] = { _ in [] }) -> String? {
        let result = Simulator(config).run()
        var problems = (Checker.check(result) + FilterChecker.check(result)).prefix(3).map(\.description)
        if !result.converged { problems.append("images differ") }
        problems += extra(result)
        guard !problems.isEmpty else { return nil }
        return "seed \(config.seed): \(problems.joined(separator: "; ")); reproduce: \(config.reproductionCommand())"
    }

    /// Expects no failure, showing the first four.
    static func expectNone(_ failures: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(failures.isEmpty, "\(failures.count) failing seeds:\n\(failures.prefix(4).joined(separator: "\n"))",
                sourceLocation: sourceLocation)
    }
}
