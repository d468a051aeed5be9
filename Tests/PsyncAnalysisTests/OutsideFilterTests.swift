import Testing
import Psync
import PsyncAnalysis
@testable import PsyncFilters
import PsyncSimulator
import PsyncTrace

/// A policy written only against the public API, as an outside package writes one: every
/// part of the toolkit that makes filters takes it (issue 13).
final class ArrivalOrderFilter: OrderingFilter {
    let name: String
    let guarantees: Set<FilterGuarantee> = [.causal, .complete]
    private var ready: [FilterMessage] = []

    init(name: String = "arrival-order") { self.name = name }

    func input(_ message: FilterMessage, _ context: FilterContext) { ready.append(message) }

    func update(_ context: FilterContext) {
        for m in ready { context.deliver(m, from: self) }
        ready.removeAll()
    }
}

@Suite struct OutsideFilterTests {
    static func config(seed: UInt64, filters: [String] = []) -> SimulationConfig {
        var config = SimulationConfig(seed: seed, participants: 3, filters: filters)
        config.network.link.lossProbability = 0.1
        config.workload.messagesPerParticipant = 6
        return config
    }

    /// The README's form, with no names in the configuration, runs the given stack (it used to
    /// run none and let the checkers pass on nothing).
    @Test func aStackGivenToTheSimulatorRunsWithoutNamesInTheConfiguration() {
        let result = Simulator(Self.config(seed: 1), filters: { [ArrivalOrderFilter()] }).run()
        #expect(result.filters == ["arrival-order"])
        let delivered = result.filterDeliveries[0].map(\.count)
        #expect(delivered.allSatisfy { $0 > 0 }, "deliveries per participant: \(delivered)")
        #expect(FilterChecker.check(result).isEmpty)
    }

    /// A registered filter is a name like the built-in ones: simulation, replay, counterfactual.
    @Test func aRegisteredFilterWorksWhereverANameDoes() throws {
        FilterRegistry.register("arrival-order-registered", summary: "test: input order") { ArrivalOrderFilter(name: "arrival-order-registered") }
        #expect(FilterRegistry.catalog.contains { $0.name == "arrival-order-registered" })
        let path = temporaryPath("registered.jsonl.lz4")
        let writer = try LZ4TraceWriter(path: path)
        let result = Simulator(Self.config(seed: 2, filters: ["arrival-order-registered"]), trace: writer).run()
        try writer.close()
        #expect(result.filterDeliveries[0].map(\.count).reduce(0, +) > 0)
        guard case .identical = try ReplayVerifier.verify(path) else { Issue.record("the replay diverged"); return }
        let (stats, replay, _) = try CounterfactualReplay.statistics(path, filters: ["arrival-order-registered"])
        #expect(replay.isExact)
        #expect(stats.counts["deliveries: arrival-order-registered"] == result.filterDeliveries[0].map(\.count).reduce(0, +))
    }

    /// A trace whose filter nobody registered: replay says so (it used to trap), and replays
    /// identically once given a factory that makes it.
    @Test func replayTakesAFactoryAndRefusesAnUnknownFilterWithoutTrapping() throws {
        let path = temporaryPath("unregistered.jsonl.lz4")
        let writer = try LZ4TraceWriter(path: path)
        Simulator(Self.config(seed: 3), trace: writer, filters: { [ArrivalOrderFilter(name: "never-registered")] }).run()
        try writer.close()
        #expect {
            try ReplayVerifier.verify(path)
        } throws: { error in
            guard case .unknownFilter(let why) = error as? ReplayVerifier.Failure else { return false }
            return why.contains("never-registered")
        }
        let factory: FilterFactory = { names in names.map { ArrivalOrderFilter(name: $0) } }
        guard case .identical(let records) = try ReplayVerifier.verify(path, factory: factory) else {
            Issue.record("the replay with a factory diverged"); return
        }
        #expect(records > 10)
        #expect(throws: FilterRegistry.UnknownFilter.self) { try CounterfactualReplay.statistics(path, filters: ["never-registered"]) }
        let (_, replay, _) = try CounterfactualReplay.statistics(path, filters: ["never-registered"], factory: factory)
        #expect(replay.isExact)
    }

    @Test func registryNamesAndArguments() throws {
        #expect(throws: FilterRegistry.UnknownFilter.self) { try FilterRegistry.make("quorum:0") }
        #expect(throws: FilterRegistry.UnknownFilter.self) { try FilterRegistry.make("causal:3") }
        #expect(throws: FilterRegistry.UnknownFilter.self) { try FilterRegistry.parseStack("waves,") }
        #expect(try FilterRegistry.make("quorum:2").name == "quorum")
        #expect(try FilterRegistry.parseStack("waves,membership") == ["waves", "membership"])
        #expect(!FilterRegistry.isValidName("a,b") && !FilterRegistry.isValidName("a:b") && !FilterRegistry.isValidName(""))
    }

    /// Control bodies from the network: what was written reads back; short or long ones read nil.
    @Test func controlBodiesRoundTripAndRejectMalformedBytes() {
        var body = ControlBody(tag: 7)
        body.append(MessageID(sender: 3, sequence: 0xDEAD_BEEF))
        body.append(UInt32(42))
        var reader = ControlBody.Reader(body.bytes)
        #expect(reader.tag == 7)
        #expect(reader.messageID() == MessageID(sender: 3, sequence: 0xDEAD_BEEF))
        #expect(reader.uint32() == 42 && reader.isAtEnd)
        #expect(reader.uint32() == nil)
        var short = ControlBody.Reader(Array(body.bytes.dropLast()))
        _ = short.messageID()
        #expect(short.uint32() == nil)
        #expect(ControlBody.Reader([]).tag == nil)
    }
}
