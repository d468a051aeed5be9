import Foundation
import PsyncFilters
import PsyncTrace

/// A violation the model checker found, in the two forms a researcher works with: a trace
/// (`psync trace dot` draws it, `psync trace replay --step` walks it) and a scenario test that
/// replays it step by step and fails while the bug is there.
public struct Counterexample: Sendable {
    public var scope: ExplorationScope
    public var steps: [String]
    public var violations: [Checker.Violation]

    public init(scope: ExplorationScope, steps: [String], violations: [Checker.Violation]) {
        self.scope = scope
        self.steps = steps
        self.violations = violations
    }

    /// Runs the steps again with `trace` recording, and ends the trace. The registry's filters
    /// unless `filters` makes the stack (an outside policy).
    public func record(to trace: TraceSink, filters: (() -> [OrderingFilter])? = nil) {
        let run = filters.map { ExploredRun(scope, trace: trace, filters: $0) } ?? ExploredRun(scope, trace: trace)
        for step in steps { precondition(run.perform(step), "counterexample step not enabled on replay: \(step)") }
        _ = run.finish()
    }

    /// A Swift Testing scenario that replays the counterexample: it passes once the violation
    /// is gone (every step is still possible and the state breaks nothing), so it can stay in a
    /// suite as a regression test. Registry filters only: for an outside policy, construct the
    /// run with `ExploredRun(_:filters:)` instead.
    public func scenarioTest(name: String = "exploredCounterexample", command: String) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let scopeJSON = String(decoding: try! encoder.encode(scope), as: UTF8.self)
        let quoted = steps.map { "            \"" + $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"," }
        return """
            import Foundation
            import PsyncSimulator
            import Testing

            /// Found by `\(command)`:
            \(violations.prefix(5).map { "/// \($0)" }.joined(separator: "\n"))
            @Test func \(name)() throws {
                let scope = try JSONDecoder().decode(ExplorationScope.self, from: Data(#"\(scopeJSON)"#.utf8))
                let run = ExploredRun(scope)
                let steps = [
            \(quoted.joined(separator: "\n"))
                ]
                for step in steps {
                    // A step no longer possible: the code changed what is sent, and the scenario
                    // cannot happen as found (explore the scope again).
                    guard run.perform(step) else { return }
                    #expect(run.violations().isEmpty, "after \\(step)")
                }
            }

            """
    }
}
