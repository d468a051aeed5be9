import Testing
import Psync
import PsyncFilters
import PsyncSimulator

/// Swarm testing (`psync simulate --swarm`): configurations drawn from the seed, and shrinking.
@Suite struct SwarmTests {
    /// The same seed draws the same configuration; 300 seeds draw every stack, partitions and
    /// crashes, and every configuration is one that can run.
    @Test func drawsAreDeterministicVariedAndValid() {
        #expect(Swarm.config(seed: 42) == Swarm.config(seed: 42))
        #expect(Swarm.config(seed: 42) != Swarm.config(seed: 43))
        var stacks: Set<[String]> = [], partitions = 0, crashes = 0, lossy = 0
        for seed in UInt64(0)..<300 {
            let c = Swarm.config(seed: seed)
            #expect(c.problems().isEmpty, "seed \(seed): \(c.problems())")
            #expect(c.commandLineArguments != nil, "seed \(seed) must print as a command")
            stacks.insert(c.filters)
            partitions += c.faults.partitions.count
            crashes += c.faults.crashes.count
            if c.network.link.lossProbability > 0 { lossy += 1 }
        }
        #expect(stacks == Set(Swarm.stacks))
        #expect(partitions > 30 && crashes > 10 && lossy > 100, "\(partitions) partitions, \(crashes) crashes, \(lossy) lossy")
    }

    /// Shrinking keeps the failure and makes the configuration smaller, down to what the
    /// failure needs: here a made-up failure of runs with 3 or more participants and 4 or more
    /// messages each ends at exactly 3 and 4, without faults.
    @Test func shrinkingFindsTheSmallestFailingConfiguration() throws {
        let seed = try #require((UInt64(0)..<200).first {
            let c = Swarm.config(seed: $0)
            return c.participants >= 5 && c.workload.messagesPerParticipant >= 10 && !c.faults.partitions.isEmpty
        })
        let fails = { (c: SimulationConfig) in c.participants >= 3 && c.workload.messagesPerParticipant >= 4 }
        let shrunk = Swarm.shrink(Swarm.config(seed: seed), fails: fails)
        #expect(shrunk.participants == 3 && shrunk.workload.messagesPerParticipant == 4)
        #expect(shrunk.faults.partitions.isEmpty && shrunk.faults.crashes.isEmpty)
        #expect(shrunk.network.link.lossProbability == 0 && shrunk.workload.replyProbability == 0)
    }

    /// A real failure: the deliberately broken waves filter, caught on a swarm configuration and
    /// shrunk to one that still breaks the total order, no larger than where it started.
    @Test func aBrokenFilterShrinksToASmallerFailingRun() throws {
        let broken = { (c: SimulationConfig) in
            FilterChecker.check(Simulator(c, filters: { [BrokenFilterTests.EagerWaves()] }).run())
                .contains { $0.property.contains("total order") }
        }
        let start = try #require((UInt64(0)..<100).lazy.map { seed -> SimulationConfig in
            var c = Swarm.config(seed: seed)
            c.filters = ["eager-waves"]
            c.faults.crashes = []
            return c
        }.first { $0.participants >= 3 && $0.workload.messagesPerParticipant >= 10 && broken($0) })
        let shrunk = Swarm.shrink(start, factory: { _ in [BrokenFilterTests.EagerWaves()] }, fails: broken)
        #expect(broken(shrunk))
        #expect(shrunk.participants <= start.participants && shrunk.workload.messagesPerParticipant <= start.workload.messagesPerParticipant)
        #expect(Self.size(shrunk) < Self.size(start), "\(start.reproductionCommand()) shrank to \(shrunk.reproductionCommand())")
    }

    /// What shrinking reduces, counted.
    static func size(_ c: SimulationConfig) -> Int {
        let l = c.network.link
        return c.participants + c.workload.messagesPerParticipant + c.faults.partitions.count + c.faults.crashes.count
            + [l.lossProbability, l.duplicateProbability, l.reorderProbability, c.workload.replyProbability].filter { $0 > 0 }.count
    }
}
