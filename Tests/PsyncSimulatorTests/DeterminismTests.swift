import Testing
import Psync
import PsyncSimulator

/// One seed drives everything: the same configuration gives the same run, effect for effect.
@Suite struct DeterminismTests {
    static func fingerprint(_ config: SimulationConfig) -> (String, UInt64) {
        let sim = Simulator(config)
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        sim.effectObserver = { host, time, effect in
            for byte in "\(host) \(time) \(effect)\n".utf8 {
                hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3
            }
        }
        let result = sim.run()
        return (SimulationSummary(result).text + "\(result.received)", hash)
    }

    @Test func sameSeedSameRun() {
        var config = PropertyTests.config(seed: 77)
        config.network.link.lossProbability = 0.2
        let (a, ha) = Self.fingerprint(config)
        let (b, hb) = Self.fingerprint(config)
        #expect(a == b)
        #expect(ha == hb)
        config.seed = 78
        let (_, hc) = Self.fingerprint(config)
        #expect(ha != hc, "a different seed changes the run")
    }

    @Test func delayAndFaultSpecificationsParseAndRun() throws {
        let config = SimulationConfig(seed: 5, participants: 3,
                                      network: NetworkModel(link: LinkModel(delay: .exponential(baseNanoseconds: 1_000, meanNanoseconds: 2_000_000))))
        let result = Simulator(config).run()
        #expect(result.converged)
        #expect(try DelayDistribution(parsing: "exp:1us+2ms") == config.network.link.delay)
        #expect(try DelayDistribution(parsing: "uniform:1ms-5ms") == .uniform(lowNanoseconds: 1_000_000, highNanoseconds: 5_000_000))
        #expect(try DelayDistribution(parsing: "const:1.5s") == .constant(nanoseconds: 1_500_000_000))
        #expect((try? DelayDistribution(parsing: "uniform:5ms-1ms")) == nil)
        #expect((try? DelayDistribution(parsing: "gauss:1ms")) == nil)
        #expect(parseDuration("12") == nil)
        #expect(try Partition(parsing: "0,1@10ms-20ms") == Partition(side: [0, 1], startNanoseconds: 10_000_000, healNanoseconds: 20_000_000))
        #expect((try? Crash(parsing: "2@x")) == nil)
    }

    /// A value that does not parse says why.
    @Test func parseErrorsSayWhy() {
        let cases: [(String, () throws -> Void, String)] = [
            ("uniform:5ms-1ms", { _ = try DelayDistribution(parsing: "uniform:5ms-1ms") }, "lower bound is above the upper bound"),
            ("gauss:1ms", { _ = try DelayDistribution(parsing: "gauss:1ms") }, "unknown distribution 'gauss'"),
            ("uniform:1ms", { _ = try DelayDistribution(parsing: "uniform:1ms") }, "uniform takes LOW-HIGH"),
            ("exp:1x", { _ = try DelayDistribution(parsing: "exp:1x") }, "needs a unit"),
            ("5", { _ = try duration("5") }, "needs a unit"),
            ("-5ms", { _ = try duration("-5ms") }, "not negative"),
            ("0@5ms-1ms", { _ = try Partition(parsing: "0@5ms-1ms") }, "heals before it starts"),
            ("a@5ms-10ms", { _ = try Partition(parsing: "a@5ms-10ms") }, "'a' is not a host number"),
            ("2@50ms:later", { _ = try HostRestart(parsing: "2@50ms:later") }, "unknown option 'later'"),
        ]
        for (text, parse, why) in cases {
            #expect(throws: ArgumentSyntaxError.self) { try parse() }
            do { try parse() } catch {
                #expect("\(error)".contains(why) && "\(error)".contains(text), "\(text): \(error)")
            }
        }
    }

    /// The exponential sampler rests on a Foundation-free logarithm; check it against known values.
    @Test func exponentialSamplerHasTheRightMean() {
        var rng = SplitMix64(seed: 9)
        let d = DelayDistribution.exponential(baseNanoseconds: 0, meanNanoseconds: 1_000_000)
        let n = 200_000
        var sum = 0.0
        for _ in 0..<n { sum += Double(d.sample(&rng)) }
        let mean = sum / Double(n)
        #expect(abs(mean - 1_000_000) < 10_000, "mean \(mean)")
    }
}
