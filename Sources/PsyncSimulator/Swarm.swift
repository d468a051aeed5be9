import Psync
import PsyncFilters

/// Swarm testing (Groce et al., ISSTA 2012): every option of a run (participants, workload,
/// network faults, partitions, crashes, filter stack) is drawn from the seed, so that a thousand
/// seeds try a thousand different mixtures instead of one configuration a thousand times; a
/// failing configuration is shrunk to a smaller one that still fails (`psync simulate --swarm`).
///
/// The draw keeps to what the toolkit promises: the default recovery policy (the paper's literal
/// rule does not converge under sustained loss, README "Recovery") and partitions that heal well
/// before the run's time limit. Crashes go with any stack: each filter's promise says what holds
/// under one (`FilterGuarantee.statement`), and the checkers hold it to that. A fifth of the
/// runs are authenticated and attacked (`Attack`): forgeries and alterations must change
/// nothing. (Unauthenticated runs are not attacked: there the attacks are meant to succeed.)
/// Half the runs under waves or depth-first replicate a state machine with a crash and a
/// restart (Section 5: re-execution or a checkpoint).
public enum Swarm {
    /// The stacks drawn from (bottom first); all are valid with any number of participants.
    public static let stacks: [[String]] = [
        [], ["causal"], ["waves"], ["depth-first"], ["quorum"], ["stable-causal"], ["handshake"],
        ["commutative"], ["waves", "membership"], ["causal", "quorum"], ["waves", "quorum"],
    ]

    /// The configuration of swarm seed `seed`.
    public static func config(seed: UInt64) -> SimulationConfig {
        var rng = SplitMix64(seed: seed ^ 0x5357_4152_4D00_0000)  // "SWARM": apart from the run's own streams
        func pick<T>(_ xs: [T]) -> T { xs[Int(rng.next() % UInt64(xs.count))] }
        func chance(_ p: Double) -> Bool { rng.nextUnit() < p }
        let n = 2 + Int(rng.next() % 5)
        let filters = pick(stacks)
        // Runs stay small (a thousand take a minute or two in a release build): at most 40
        // messages a participant, 20 with five or six (replies and acknowledgements multiply
        // them; the long-run property tests take the large conversations).
        let messages = pick([2, 5, 10, 20, 40])
        var w = Workload(messagesPerParticipant: n >= 5 ? min(messages, 20) : messages,
                         meanIntervalNanoseconds: pick([1, 5, 10, 20]) * 1_000_000,
                         replyProbability: pick([0, 0, 0.2, 0.5]))
        if filters == ["commutative"] { w.betaFraction = pick([0.1, 0.5]) }
        var link = LinkModel()
        link.delay = pick([.constant(nanoseconds: 1_000_000), .uniform(lowNanoseconds: 500_000, highNanoseconds: 5_000_000),
                           .exponential(baseNanoseconds: 500_000, meanNanoseconds: 2_000_000)])
        link.lossProbability = pick([0, 0, 0.02, 0.1, 0.2, 0.3])
        link.duplicateProbability = pick([0, 0, 0.05, 0.1])
        link.reorderProbability = pick([0, 0, 0.1, 0.3])
        var faults = FaultSchedule()
        if chance(0.3) {
            let start = rng.next() % 200_000_000
            let side = (0..<UInt32(n)).filter { _ in chance(0.4) }
            if !side.isEmpty && side.count < n {
                faults.partitions = [Partition(side: side, startNanoseconds: start, healNanoseconds: start + 50_000_000 + rng.next() % 1_000_000_000)]
            }
        }
        if n >= 3 && chance(0.25) {
            faults.crashes = [Crash(host: UInt32(rng.next() % UInt64(n)), atNanoseconds: rng.next() % 300_000_000)]
        }
        // Section 5: half the runs over a total-order stack that promises no membership become a
        // replicated state machine whose crashed host (one is drawn if none was) comes back,
        // re-executing or from a checkpoint, with its log or without. Drawn from a generator of its own, as below.
        var restarts = SplitMix64(seed: seed ^ 0x5245_5354_4152_5453)  // "RESTARTS"
        if n >= 3, ["waves", "depth-first"].contains(filters.last), !filters.contains("membership"), restarts.nextUnit() < 0.5 {
            w.pattern = .replicated
            let crash = faults.crashes.first ?? Crash(host: UInt32(restarts.next() % UInt64(n)), atNanoseconds: restarts.next() % 300_000_000)
            faults.crashes = [crash]
            let at = crash.atNanoseconds + 20_000_000 + restarts.next() % 400_000_000
            let log = restarts.next() % 2 == 0
            faults.restarts = [HostRestart(host: crash.host, atNanoseconds: at, mode: restarts.next() % 2 == 0 ? .reexecute : .checkpoint,
                                           log: log)]
        }
        // From a generator of its own, so that adding the adversary left every other draw as it was.
        var adversary = SplitMix64(seed: seed ^ 0x4144_5645_5253_4152)  // "ADVERSAR"
        let authenticated = adversary.nextUnit() < 0.2
        if authenticated {
            faults.attacks = (0..<(1 + adversary.next() % 3)).map { _ in
                Attack(Attack.Kind.allCases[Int(adversary.next() % 3)], host: UInt32(adversary.next() % UInt64(n)),
                       atNanoseconds: adversary.next() % 200_000_000)
            }
        }
        return SimulationConfig(seed: rng.next(), participants: n, workload: w, network: NetworkModel(link: link),
                                faults: faults, filters: filters, authenticated: authenticated)
    }

    /// Runs `config` and checks it: the violations, empty if it passed.
    public static func violations(_ config: SimulationConfig) -> [Checker.Violation] {
        let result = Simulator(config).run()
        return Checker.check(result) + FilterChecker.check(result)
    }

    /// A smaller configuration that still fails (`fails`), by greedy steps that each keep the
    /// failure: drop a fault, halve the messages, remove a participant, take away loss,
    /// duplication, reordering and replies. The filter stack and the seed stay: they are what
    /// the failure is about and what reproduces it. Runs at most `budget` simulations; `factory`
    /// makes the stack's filters when checking that a smaller configuration can run.
    public static func shrink(_ config: SimulationConfig, budget: Int = 200, factory: FilterFactory = FilterRegistry.makeStack,
                              fails: (SimulationConfig) -> Bool = { !violations($0).isEmpty }) -> SimulationConfig {
        var best = config
        var runs = 0
        var improved = true
        while improved && runs < budget {
            improved = false
            for candidate in smaller(best, factory: factory) where runs < budget {
                runs += 1
                if fails(candidate) {
                    best = candidate
                    improved = true
                    break
                }
            }
        }
        return best
    }

    /// One-step reductions of `c`, largest first.
    static func smaller(_ c: SimulationConfig, factory: FilterFactory) -> [SimulationConfig] {
        var out: [SimulationConfig] = []
        func with(_ change: (inout SimulationConfig) -> Void) {
            var d = c
            change(&d)
            if d != c && d.problems(factory: factory).isEmpty { out.append(d) }
        }
        with { $0.faults.partitions = [] }
        with { $0.faults.crashes = [] }
        with { $0.faults.attacks = [] }
        with { $0.workload.messagesPerParticipant = max(1, $0.workload.messagesPerParticipant / 2) }
        with { $0.workload.messagesPerParticipant -= $0.workload.messagesPerParticipant > 1 ? 1 : 0 }
        if c.participants > 2 {
            // The last participant goes, with the faults that name its host.
            with { d in
                d.participants -= 1
                let gone = UInt32(d.participants)
                d.faults.crashes.removeAll { $0.host == gone }
                d.faults.attacks.removeAll { $0.host == gone }
                d.faults.partitions = d.faults.partitions.compactMap { p in
                    let side = p.side.filter { $0 != gone }
                    return side.isEmpty || side.count == d.participants ? nil : Partition(side: side, startNanoseconds: p.startNanoseconds, healNanoseconds: p.healNanoseconds)
                }
            }
        }
        with { $0.network.link.lossProbability = 0 }
        with { $0.network.link.duplicateProbability = 0 }
        with { $0.network.link.reorderProbability = 0 }
        with { $0.workload.replyProbability = 0 }
        return out
    }
}
