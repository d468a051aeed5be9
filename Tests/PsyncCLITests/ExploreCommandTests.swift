import Foundation
import Testing
import Psync
@testable import PsyncCLI
import PsyncFilters

/// `psync explore` on the command line: its exit statuses (0 explored, 1 violation, 3 limit,
/// 64 a scope that cannot run), and a counterexample that the trace tools take.
@Suite struct ExploreCommandTests {
    /// A filter that delivers Psync's causal order but claims a total order: two participants
    /// that send at once break it within a few steps.
    static let registered: Void = FilterRegistry.register("claims-total-order", summary: "causal order claiming a total order (tests)") {
        ClaimsTotalOrder()
    }

    final class ClaimsTotalOrder: OrderingFilter {
        let name = "claims-total-order"
        let guarantees: Set<FilterGuarantee> = [.causal, .totalOrder, .complete]
        private var ready: [FilterMessage] = []
        func input(_ message: FilterMessage, _ context: FilterContext) { ready.append(message) }
        func update(_ context: FilterContext) {
            for m in ready { context.deliver(m, from: self) }
            ready.removeAll()
        }
    }

    @Test func scopesThatCannotRunAreRefused() async {
        for arguments in [["--participants", "1"], ["--messages", "0"], ["--losses", "-1"], ["--crashes", "2", "--participants", "2"],
                          ["--ring", "--replicated"], ["--max-states", "0"], ["--filter", "quorum:4"], ["--settle-attempts", "-1"]] {
            #expect(await exitStatus(["explore"] + arguments) == 64, "\(arguments)")
        }
        #expect(await exitStatus(["explore", "--filter", "nope"]) == 2)
    }

    @Test func exhaustiveLimitedAndViolatingScopesExitAsDocumented() async throws {
        _ = Self.registered
        #expect(await exitStatus(["explore", "--participants", "2", "--messages", "1", "--filter", "waves", "--no-acks", "--losses", "1"]) == 0)
        #expect(await exitStatus(["explore", "--participants", "2", "--messages", "2", "--filter", "waves", "--no-acks", "--max-states", "50"]) == 3)
        #expect(await exitStatus(["explore", "--participants", "2", "--messages", "2", "--filter", "waves", "--no-acks", "--max-depth", "4"]) == 3)

        let trace = temporaryTrace("explored-counterexample.jsonl.lz4")
        let test = temporaryTrace("ExploredTests.swift")
        #expect(await exitStatus(["explore", "--participants", "3", "--messages", "1", "--filter", "claims-total-order", "--no-acks",
                                  "--trace", trace, "--test", test]) == 1)
        // The counterexample's trace ends where the property broke: the tools read it whole,
        // and the checker finds the broken total order without asking it to converge.
        #expect(await exitStatus(["trace", "dot", trace, "-o", "/dev/null"]) == 0)
        #expect(await exitStatus(["trace", "replay", trace, "--step", "--limit", "5"]) == 0)
        #expect(await exitStatus(["trace", "check", trace]) != 0)
        // Its steps were chosen, not drawn from the seed: a re-run cannot reproduce it, and
        // --verify says so instead of reporting a difference.
        #expect(await exitStatus(["trace", "replay", trace, "--verify"]) == 2)
        let source = try String(contentsOfFile: test, encoding: .utf8)
        #expect(source.contains("ExploredRun(scope)") && source.contains("claims-total-order"))
    }
}
