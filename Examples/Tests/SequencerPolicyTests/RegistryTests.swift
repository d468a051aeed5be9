import Foundation
import Testing
import PsyncAnalysis
import PsyncFilters
import PsyncSimulator
import PsyncTrace
import SequencerPolicy

/// The policy used as the toolkit's own filters are: by name, from the registry, in traces that
/// replay; or handed to the simulator directly, unregistered.
@Suite struct RegistryTests {
    @Test func registeredNamesWorkWhereverTheToolkitTakesAName() throws {
        SequencerPolicy.register()
        let names = FilterRegistry.catalog.map(\.name)
        #expect(names.contains("sequencer") && names.contains("eager-sequencer"))
        #expect(try FilterRegistry.parseStack("causal,sequencer") == ["causal", "sequencer"])
        #expect(try FilterRegistry.make("sequencer").guarantees == [.causal, .totalOrder, .complete])

        let config = Runs.config(seed: 7)
        #expect(config.filters == ["sequencer"])
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sequencer-\(UUID().uuidString).jsonl.lz4").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let writer = try LZ4TraceWriter(path: path)
        let result = Simulator(config, trace: writer).run()
        try writer.close()
        let violations = Runs.violations(result)
        #expect(violations.isEmpty, "\(Runs.failure(config, violations))")
        // The trace's header names the filter; replay makes it from the registry again.
        switch try ReplayVerifier.verify(path) {
        case .identical(let records):
            #expect(records > 100)
        case .diverged(let d):
            Issue.record("replay diverged at record \(d.record): \(d.inTrace ?? "-") vs \(d.inReplay ?? "-"); reproduce: \(config.reproductionCommand(tool: "mylab"))")
        }
    }

    /// Without registering: the simulator runs the stack it is given and names it after the
    /// filters, so checkers and results say what ran.
    @Test func anUnregisteredInstanceRunsToo() {
        var config = Runs.config(seed: 12)
        config.filters = []
        let result = Simulator(config, filters: { [SequencerFilter()] }).run()
        #expect(result.filters == ["sequencer"])
        let violations = Runs.violations(result)
        #expect(violations.isEmpty, "\(Runs.failure(result.config, violations))")
    }
}
