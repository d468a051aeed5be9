import Psync
import PsyncSimulator

/// The simulated runs the tests use: one reproducible configuration per seed, and the failure
/// text every test prints (the seed, and the `mylab` command that reruns the seed).
enum Runs {
    /// 2-6 participants; loss up to 20%, duplication, reordering; replies (chains of context);
    /// in some seeds a partition that heals, a crashed participant (never the sequencer), or the
    /// threshold Θ; seeds 9, 19, 29 and 39 are long conversations (200 messages each).
    static func config(seed: UInt64, filter: String = "sequencer") -> SimulationConfig {
        var rng = SplitMix64(seed: seed &* 0x9E37_79B9_7F4A_7C15 &+ 1)
        let n = 2 + Int(rng.next() % 5)
        let link = LinkModel(
            delay: .uniform(lowNanoseconds: 500_000, highNanoseconds: 500_000 + rng.next() % 4_000_000),
            lossProbability: Double(rng.next() % 21) / 100,
            duplicateProbability: Double(rng.next() % 11) / 100,
            reorderProbability: Double(rng.next() % 21) / 100)
        let messages = seed % 10 == 9 ? 200 : 4 + Int(rng.next() % 20)
        var faults = FaultSchedule()
        if seed % 5 == 2 {
            let start = rng.next() % 50_000_000
            faults.partitions = [Partition(side: [UInt32(n - 1)], startNanoseconds: start, healNanoseconds: start + 20_000_000 + rng.next() % 150_000_000)]
        }
        if seed % 7 == 3 && n >= 3 { faults.crashes = [Crash(host: UInt32(n - 1), atNanoseconds: 5_000_000 + rng.next() % 60_000_000)] }
        var host = HostConfig()
        if seed % 8 == 5 { host.retainedNodes = 64 }
        return SimulationConfig(
            seed: seed, participants: n,
            workload: Workload(messagesPerParticipant: messages, replyProbability: Double(rng.next() % 41) / 100),
            network: NetworkModel(link: link), faults: faults, host: host, filters: [filter])
    }

    /// Runs `config` (its filters by name, from the registry), stopping a run that does not
    /// settle (a livelock) after `eventBudget` events instead of at the hour of virtual time.
    static func run(_ config: SimulationConfig, eventBudget: Int = 3_000_000) -> SimulationResult {
        let simulator = Simulator(config)
        simulator.shouldStop = { [unowned simulator] in simulator.eventsProcessed >= eventBudget }
        return simulator.run()
    }

    /// Every violation of a run, as text: Psync's properties, the filters' promises, and
    /// quiescence (`Checker.Violation` cannot be made outside the toolkit, so text it is).
    static func violations(_ result: SimulationResult) -> [String] {
        if let stopped = result.interruptedAtNanoseconds {
            return ["quiescence: still busy at \(formatDuration(stopped)) of virtual time; stopped"]
        }
        return (Checker.check(result) + FilterChecker.check(result)).map(\.description)
    }

    /// What a failing test prints: the seed, the first violations, and the command that reruns it.
    static func failure(_ config: SimulationConfig, _ violations: [String]) -> String {
        let listed = violations.prefix(5).map { "  \($0)" }.joined(separator: "\n")
        return "seed \(config.seed): \(violations.count) violations\n\(listed)\n  reproduce: \(config.reproductionCommand(tool: "mylab"))"
    }
}
