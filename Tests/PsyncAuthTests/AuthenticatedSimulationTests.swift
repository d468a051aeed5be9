import Psync
import PsyncAnalysis
import PsyncSimulator
import PsyncTrace
import Testing

/// An adversary without the key, in the simulator: forged and altered packets get through a
/// plain conversation (the attacks are real) and are dropped and traced in an authenticated
/// one, which then runs exactly as if they had not been sent; replays are duplicates.
@Suite struct AuthenticatedSimulationTests {
    static let attacks: [Attack] = [
        Attack(.forge, host: 0, atNanoseconds: 20_000_000), Attack(.alter, host: 1, atNanoseconds: 25_000_000),
        Attack(.replay, host: 2, atNanoseconds: 30_000_000), Attack(.forge, host: 2, atNanoseconds: 45_000_000),
        Attack(.alter, host: 0, atNanoseconds: 50_000_000), Attack(.replay, host: 1, atNanoseconds: 55_000_000),
    ]

    static func config(seed: UInt64, authenticated: Bool, attacks: [Attack] = attacks, filters: [String] = ["waves"]) -> SimulationConfig {
        var host = HostConfig()
        host.reclaimsPayloads = false  // the tests compare payloads across hosts at the end
        return SimulationConfig(seed: seed, participants: 3,
                                workload: Workload(messagesPerParticipant: 120, meanIntervalNanoseconds: 2_000_000, payloadBytes: 16),
                                network: NetworkModel(link: LinkModel(lossProbability: 0.05)),
                                faults: FaultSchedule(attacks: attacks), host: host, filters: filters, authenticated: authenticated)
    }

    /// Every message's payload on every host that holds it, per message id.
    static func payloads(_ sim: Simulator, _ result: SimulationResult) -> [MessageID: Set<[UInt8]>] {
        var all: [MessageID: Set<[UInt8]>] = [:]
        let cid = sim.config.conversation
        for (i, host) in sim.hosts.enumerated() {
            let pid = sim.config.participantIDs[i]
            for mid in result.histories[i] {
                if let p = try? host.payload(mid, in: cid, as: pid) { all[mid, default: []].insert(p) }
            }
        }
        return all
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func authenticatedRunsShrugOffForgeriesAndAlterationsAndKeepEveryPromise(seed: UInt64) throws {
        let sink = MemoryTraceSink()
        let sim = Simulator(Self.config(seed: seed, authenticated: true), trace: sink)
        let result = sim.run()
        let reproduce = "seed \(seed): \(result.config.reproductionCommand())"
        #expect((Checker.check(result) + FilterChecker.check(result)).isEmpty, "\(reproduce)")
        #expect(result.network.attacked == Self.attacks.count, "\(reproduce)")
        // Each forgery and each alteration is one traced drop at its target, with the reason.
        let refused = sink.events.compactMap { e -> (HostID?, DropRecord)? in
            if case .drop(let d) = e.kind, d.reason == DropReason.unauthenticated.rawValue { (e.host, d) } else { nil }
        }
        let expected = Self.attacks.filter { $0.kind != .replay }.map { HostID($0.host) }
        #expect(refused.map(\.0) == expected, "\(reproduce)")
        #expect(refused.allSatisfy { $0.1.detail.contains("HMAC tag is wrong") }, "\(reproduce)")
        #expect(result.network.droppedUnauthenticated == expected.count)
        // Nothing forged or altered reached any host: every message has one payload everywhere.
        for (mid, versions) in Self.payloads(sim, result) {
            #expect(versions.count == 1 && versions.first != Array("forged".utf8), "\(mid): \(versions) \(reproduce)")
        }
        // The standalone trace check agrees.
        var checker = TraceChecker()
        for e in sink.events { checker.observe(e) }
        _ = checker.finish(complete: true)
        #expect(checker.violations.isEmpty, "\(checker.violations.prefix(3)) \(reproduce)")
    }

    @Test func withoutAuthenticationTheSameAttacksSucceed() throws {
        let sim = Simulator(Self.config(seed: 1, authenticated: false, filters: []))
        let result = sim.run()
        #expect(result.network.attacked == Self.attacks.count)
        #expect(result.network.droppedUnauthenticated == 0)
        let payloads = Self.payloads(sim, result)
        // A forged message sits in its target's image; an altered one differs between hosts.
        #expect(payloads.values.contains { $0.contains(Array("forged".utf8)) })
        #expect(payloads.values.contains { $0.count > 1 })
    }

    @Test func authenticationChangesBytesOnlyNotTheRun() throws {
        let plain = Simulator(Self.config(seed: 4, authenticated: false, attacks: [])).run()
        let sealed = Simulator(Self.config(seed: 4, authenticated: true, attacks: [])).run()
        #expect(plain.received == sealed.received)
        #expect(plain.network.packetsSent == sealed.network.packetsSent)
        #expect(sealed.network.bytesSent == plain.network.bytesSent + 32 * plain.network.packetsSent)
    }

    @Test func sameSeedSameTraceByteForByte() throws {
        func trace() -> [String] {
            let sink = MemoryTraceSink()
            Simulator(Self.config(seed: 9, authenticated: true), trace: sink).run()
            return sink.events.map(\.jsonLine)
        }
        #expect(trace() == trace())
    }

    @Test func attacksOnHostsOutsideTheRunAreRefusedAndTheCommandLineSaysThem() throws {
        var config = Self.config(seed: 1, authenticated: true, attacks: [Attack(.forge, host: 3, atNanoseconds: 1)])
        #expect(config.problems().contains { $0.contains("forge:3@") })
        config.faults.attacks = [Attack(.replay, host: 1, atNanoseconds: 5_000_000)]
        #expect(config.problems().isEmpty)
        var c = SimulationConfig(faults: FaultSchedule(attacks: [Attack(.alter, host: 2, atNanoseconds: 5_000_000)]), authenticated: true)
        c.seed = 3
        let args = try #require(c.commandLineArguments)
        #expect(args.suffix(3) == ["--attack", "alter:2@5ms", "--authenticate"])
        #expect(try Attack(parsing: "forge:2@100ms") == Attack(.forge, host: 2, atNanoseconds: 100_000_000))
        for bad in ["forge", "steal:1@1ms", "forge:x@1ms", "forge:1@", "forge:1@-1ms", ":1@1ms"] {
            #expect(throws: ArgumentSyntaxError.self, "\(bad)") { try Attack(parsing: bad) }
        }
    }

    @Test func headersWithoutAuthenticationOrAttacksReadAsBefore() throws {
        let config = SimulationConfig(seed: 5)
        let text = config.json.text
        #expect(!text.contains("authenticated") && !text.contains("attacks"))
        let back = try SimulationConfig(traceHeader: config.traceHeader)
        #expect(back == config)
        let sealed = SimulationConfig(seed: 5, faults: FaultSchedule(attacks: Self.attacks), authenticated: true)
        #expect(try SimulationConfig(traceHeader: sealed.traceHeader) == sealed)
    }
}
