import Foundation
import Psync
import PsyncSimulator
import PsyncTrace
import Testing

/// `Explorer` over `ExploredRun`: exhaustive scopes small enough for a debug build, the
/// reduction's soundness, limits, determinism and counterexamples that replay. The README's
/// larger scopes run in release (`psync explore`).
@Suite struct ExplorationTests {
    static func explore(_ scope: ExplorationScope, _ limits: ExplorationLimits = ExplorationLimits()) -> ExplorationReport<ExploredRun.Action> {
        ExploredRun.explorer(scope, limits: limits).run()
    }

    /// Every filter of the library, alone, on two participants with one loss anywhere: every
    /// state explored, none breaks a promise, every run ends (quiescent states exist).
    @Test(arguments: ["causal", "waves", "depth-first", "quorum", "stable-causal", "commutative"])
    func smallScopeWithALossHasNoViolation(filter: String) {
        let scope = ExplorationScope(participants: 2, messagesPerParticipant: 1, filters: [filter], acknowledges: false, losses: 1)
        let report = Self.explore(scope)
        #expect(report.exhaustive && report.counterexample == nil && report.quiescentStates > 0, "\(scope.description)\n\(report)")
    }

    /// A duplicate and a crash budget are spent somewhere in the scope (ends where they were
    /// spent exist), and no state breaks a property.
    @Test func duplicatesAndCrashesAreExplored() {
        for scope in [ExplorationScope(participants: 2, messagesPerParticipant: 1, duplicates: 1),
                      ExplorationScope(participants: 2, messagesPerParticipant: 1, filters: ["waves"], acknowledges: false, crashes: 1)] {
            var spent = 0
            let explorer = ExploredRun.explorer(scope)
            explorer.onQuiescent = { if $0.duplicatesUsed + $0.crashesUsed > 0 { spent += 1 } }
            let report = explorer.run()
            #expect(report.exhaustive && report.counterexample == nil && spent > 0, "\(scope.description)\n\(report)")
        }
    }

    /// Sleep sets drop transitions, never states: with and without reduction the same states
    /// and the same ends are reached, through fewer transitions with it.
    @Test func reductionKeepsEveryState() {
        let scope = ExplorationScope(participants: 2, messagesPerParticipant: 1, filters: ["waves"], acknowledges: false, losses: 1)
        let full = Self.explore(scope, ExplorationLimits(reduction: false))
        let reduced = Self.explore(scope)
        #expect(full.exhaustive && reduced.exhaustive)
        #expect(full.states == reduced.states && full.quiescentStates == reduced.quiescentStates, "full \(full)\nreduced \(reduced)")
        #expect(reduced.transitions < full.transitions, "full \(full.transitions), reduced \(reduced.transitions)")
    }

    /// Each limit stops the search past it and says it was not exhaustive; the same scope gives
    /// the same counts every time.
    @Test func limitsAndDeterminism() {
        let scope = ExplorationScope(participants: 2, messagesPerParticipant: 2, filters: ["waves"], acknowledges: false)
        let byStates = Self.explore(scope, ExplorationLimits(maxStates: 500))
        #expect(!byStates.exhaustive && byStates.states == 500)
        let byDepth = Self.explore(scope, ExplorationLimits(maxDepth: 6))
        #expect(!byDepth.exhaustive && byDepth.depth == 6)
        let again = Self.explore(scope, ExplorationLimits(maxDepth: 6))
        #expect(again.states == byDepth.states && again.transitions == byDepth.transitions && again.statesByDepth == byDepth.statesByDepth)
    }
}

extension ExplorationTests {
    /// The digest tells apart every two states a step leads between: a step always changes the
    /// state (a packet leaves the network, a participant takes an input), so along any run no
    /// two consecutive states may share a fingerprint (FIFO links included, where only each
    /// link's oldest packet may arrive but every packet in flight is part of the state).
    @Test func everyStepChangesTheFingerprint() {
        for scope in [ExplorationScope(participants: 3, messagesPerParticipant: 1, filters: ["causal"], acknowledges: false, fifo: true),
                      ExplorationScope(participants: 2, messagesPerParticipant: 2, filters: ["waves"], acknowledges: false, losses: 1, duplicates: 1)] {
            for seed in UInt64(1)...5 {
                let run = ExploredRun(scope)
                var rng = SplitMix64(seed: seed)
                var previous = run.fingerprint()
                while case let actions = run.enabledActions(), !actions.isEmpty {
                    let action = actions[Int(rng.next() % UInt64(actions.count))]
                    run.perform(action)
                    let now = run.fingerprint()
                    #expect(now != previous, "\(scope.description), seed \(seed): \(action) left the fingerprint as it was")
                    previous = now
                }
                #expect(run.isQuiescent)
            }
        }
    }
}

extension ExplorationTests {
    /// What a run ends with: each participant's deliveries by the top filter, and each image.
    static func outcome(_ run: ExploredRun) -> [String] {
        let r = run.result
        return r.filterDeliveries.last.map { $0.map { $0.map(\.message.description).joined(separator: " ") } } ?? []
            + r.images.map { $0.map { $0.keys.sorted().map(\.description).joined(separator: " ") } ?? "-" }
    }

    /// The search claims every end of the scope: runs taken at random (each step a random
    /// enabled action) end in outcomes the search also reached. States merged wrongly by the
    /// digests would lose ends, and some random run would end outside the searched set.
    @Test func randomRunsEndWhereTheSearchWent() {
        let scope = ExplorationScope(participants: 2, messagesPerParticipant: 2, filters: ["waves"], acknowledges: false)
        var searched: Set<[String]> = []
        let explorer = ExploredRun.explorer(scope)
        explorer.onQuiescent = { searched.insert(Self.outcome($0)) }
        let report = explorer.run()
        #expect(report.exhaustive && report.counterexample == nil)
        var sampled: Set<[String]> = []
        for seed in UInt64(1)...60 {
            let run = ExploredRun(scope)
            var rng = SplitMix64(seed: seed)
            while case let actions = run.enabledActions(), !actions.isEmpty { run.perform(actions[Int(rng.next() % UInt64(actions.count))]) }
            sampled.insert(Self.outcome(run))
        }
        #expect(sampled.isSubset(of: searched), "ends no search reached: \(sampled.subtracting(searched).prefix(3))")
        #expect(sampled.count > 1, "the random runs should end in more than one way")
    }
}
