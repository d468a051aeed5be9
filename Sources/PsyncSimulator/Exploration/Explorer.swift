import Foundation

/// A system the model checker explores: a deterministic state machine whose next step is a
/// choice among enabled actions. It is replayed from its start for every state the search
/// returns to (the engine's hosts and filters are classes, so a state cannot be copied), which
/// makes determinism a requirement: the same actions from the start give the same state.
public protocol ExplorableSystem: AnyObject {
    associatedtype Action: Hashable, CustomStringConvertible

    /// The actions that may come next, in a fixed order (the search tries them in it).
    func enabledActions() -> [Action]
    func perform(_ action: Action)
    /// The state's digest: equal states must give equal digests (`StateFingerprint`).
    func fingerprint() -> StateFingerprint
    /// Nothing more happens: no action is enabled (exactly then). The properties that hold
    /// only at the end (convergence, completeness) are checked here.
    var isQuiescent: Bool { get }
    /// The properties the state breaks (at quiescence, the end's too).
    func violations() -> [Checker.Violation]
    /// Whether `a` and `b`, both enabled, commute: either order gives the same state and
    /// neither disables the other (partial-order reduction; `false` is always safe).
    static func independent(_ a: Action, _ b: Action) -> Bool
}

/// How far the search may go; without limits it stops when every reachable state was seen.
public struct ExplorationLimits: Sendable {
    public var maxStates: Int?
    public var maxDepth: Int?
    /// Partial-order reduction (sleep sets). Off, counterexamples are the shortest there are;
    /// on, the same states are reached through fewer transitions.
    public var reduction: Bool

    public init(maxStates: Int? = nil, maxDepth: Int? = nil, reduction: Bool = true) {
        self.maxStates = maxStates
        self.maxDepth = maxDepth
        self.reduction = reduction
    }
}

/// What a search found.
public struct ExplorationReport<Action: Hashable & CustomStringConvertible>: CustomStringConvertible {
    /// Distinct states reached (by fingerprint), transitions taken, the longest shortest path.
    public var states = 0
    public var transitions = 0
    public var depth = 0
    /// States where nothing more happens (every run of the scope ends in one of them).
    public var quiescentStates = 0
    /// New states found at each depth: how the search's frontier grew.
    public var statesByDepth: [Int] = []
    /// True when every reachable state was explored; false when a limit stopped the search (or
    /// a violation did).
    public var exhaustive = false
    public var seconds = 0.0
    /// The first violation found, with the actions that lead to it from the start.
    public var counterexample: (actions: [Action], violations: [Checker.Violation])?

    public var description: String {
        var lines = ["states \(states), transitions \(transitions), depth \(depth), quiescent states \(quiescentStates), "
                     + (exhaustive ? "exhaustive" : "not exhaustive") + ", \(formatSeconds(seconds))"]
        lines.append("new states by depth: " + statesByDepth.map(String.init).joined(separator: " "))
        if let (actions, violations) = counterexample {
            lines.append("VIOLATION after \(actions.count) steps:")
            lines += violations.map { "  \($0)" }
            lines += actions.enumerated().map { "  \($0.offset + 1). \($0.element)" }
        }
        return lines.joined(separator: "\n")
    }

    private func formatSeconds(_ s: Double) -> String { String(format: "%.2f s", s) }
}

/// Breadth-first model checking of an `ExplorableSystem`: every reachable state once (state
/// hashing by `StateFingerprint`), checked as it is reached, so the first violation found is at
/// the smallest depth and its path is a shortest counterexample.
///
/// Partial-order reduction by sleep sets (Godefroid 1996): after the search took action t from
/// a state, a sibling branch that took an action independent of t does not take t again at
/// once, since both orders reach the same state. Sleep sets never drop a state, only
/// transitions; with state hashing a state reached again with a smaller sleep set takes the
/// transitions it had slept through (the set stored with it is intersected). Because those
/// late transitions are queued after deeper states, a counterexample under reduction may be
/// longer than the shortest; `ExplorationLimits.reduction = false` gives the shortest.
///
/// Every expansion replays the state's path from a fresh system (`make`), once per action
/// taken from it: the cost is transitions × depth steps.
public final class Explorer<System: ExplorableSystem> {
    public typealias Action = System.Action
    let make: () -> System
    let limits: ExplorationLimits
    /// Told of every quiescent state reached, with the system in it (a test collects receive
    /// orders there).
    public var onQuiescent: ((System) -> Void)?
    /// Told where the search stands every 1,000 states (a shell shows progress).
    public var onProgress: ((ExplorationReport<Action>) -> Void)?

    private struct Node {
        var parent: Int32
        var action: Action?
        var depth: Int32
    }
    private struct Visit {
        var node: Int
        var sleep: Set<Action>
        var expanded: Bool
    }
    private var nodes: [Node] = []
    private var visited: [StateFingerprint: Visit] = [:]

    public init(limits: ExplorationLimits = ExplorationLimits(), make: @escaping () -> System) {
        self.make = make
        self.limits = limits
    }

    /// The actions from the start to node `n`.
    private func path(_ n: Int) -> [Action] {
        var out: [Action] = []
        var k = n
        while let a = nodes[k].action {
            out.append(a)
            k = Int(nodes[k].parent)
        }
        return out.reversed()
    }

    private func replay(_ actions: [Action]) -> System {
        let system = make()
        for a in actions { system.perform(a) }
        return system
    }

    public func run() -> ExplorationReport<Action> {
        let started = Date()
        var report = ExplorationReport<Action>()
        search(&report)
        report.seconds = Date().timeIntervalSince(started)
        return report
    }

    /// The search proper; it returns early at a violation or a limit (the report says which).
    private func search(_ report: inout ExplorationReport<Action>) {
        let root = make()
        nodes = [Node(parent: -1, action: nil, depth: 0)]
        visited = [root.fingerprint(): Visit(node: 0, sleep: [], expanded: false)]
        report.states = 1
        report.statesByDepth = [1]
        if reached(root, node: 0, &report) { return }
        // Work items: a node to expand, with the only actions to take (a re-expansion) or all.
        var queue: [(node: Int, fingerprint: StateFingerprint, only: Set<Action>?)] = [(0, root.fingerprint(), nil)]
        var head = 0
        var limited = false
        while head < queue.count {
            let (n, fp, only) = queue[head]
            head += 1
            if let maxDepth = limits.maxDepth, Int(nodes[n].depth) >= maxDepth { limited = true; continue }
            visited[fp]!.expanded = true
            let sleep = visited[fp]!.sleep
            let prefix = path(n)
            var current: System? = replay(prefix)
            let enabled = current!.enabledActions()
            var taken: [Action] = []
            for a in enabled where !sleep.contains(a) && (only?.contains(a) ?? true) {
                let system = current ?? replay(prefix)
                current = nil
                system.perform(a)
                report.transitions += 1
                let childSleep = limits.reduction ? Set(sleep.union(taken).filter { System.independent(a, $0) }) : []
                taken.append(a)
                let childFP = system.fingerprint()
                if var visit = visited[childFP] {
                    let missing = visit.sleep.subtracting(childSleep)
                    guard !missing.isEmpty else { continue }
                    visit.sleep.formIntersection(childSleep)
                    visited[childFP] = visit
                    if visit.expanded { queue.append((visit.node, childFP, missing)) }
                    continue
                }
                let depth = nodes[n].depth + 1
                nodes.append(Node(parent: Int32(n), action: a, depth: depth))
                let child = nodes.count - 1
                visited[childFP] = Visit(node: child, sleep: childSleep, expanded: false)
                report.states += 1
                if Int(depth) >= report.statesByDepth.count { report.statesByDepth.append(0) }
                report.statesByDepth[Int(depth)] += 1
                report.depth = max(report.depth, Int(depth))
                if report.states % 1000 == 0 { onProgress?(report) }
                if reached(system, node: child, &report) { return }
                if let maxStates = limits.maxStates, report.states >= maxStates { return }
                // An end has nothing to expand (and one at the depth limit limits nothing).
                if !system.isQuiescent { queue.append((child, childFP, nil)) }
            }
            // Expanded states are not needed in the queue again: let its storage go as it drains.
            if head > 4096 && head * 2 > queue.count {
                queue.removeFirst(head)
                head = 0
            }
        }
        report.exhaustive = !limited
    }

    /// Checks a newly reached state; true if it breaks a property (the report then holds the
    /// counterexample).
    private func reached(_ system: System, node: Int, _ report: inout ExplorationReport<Action>) -> Bool {
        if system.isQuiescent {
            report.quiescentStates += 1
            onQuiescent?(system)
        }
        let violations = system.violations()
        guard !violations.isEmpty else { return false }
        report.counterexample = (path(node), violations)
        return true
    }
}
