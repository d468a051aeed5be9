import Testing
import Psync
import PsyncFilters
import PsyncSimulator
import PsyncTrace

/// Filters leave their own records in the trace: every delivery with the filter's name and
/// position, and their decisions (waves committed, nodes committed, suspicions).
@Suite struct FilterTraceTests {
    @Test(arguments: [["waves"], ["depth-first"], ["quorum"]])
    func deliveriesAreTracedWithTheirPositions(filters: [String]) {
        let sink = MemoryTraceSink()
        var config = SimulationConfig(seed: 4, participants: 3, filters: filters)
        config.network.link.lossProbability = 0.1
        let result = Simulator(config, trace: sink).run()
        var positions: [String: [UInt64]] = [:]
        var decisions = 0
        for e in sink.events {
            guard case .other(let kind, let fields) = e.kind else { continue }
            let field = { (k: String) in fields.first { $0.0 == k }?.1 }
            if kind == "deliver" {
                #expect(field("filter")?.string == filters[0])
                positions[field("p")?.string ?? "", default: []].append(field("position")?.uint64 ?? 0)
            } else if ["wave", "commit"].contains(kind) {
                decisions += 1
            }
        }
        for (p, ps) in positions { #expect(ps == Array(1...UInt64(ps.count)), "\(p): positions count up from 1") }
        let delivered = result.filterDeliveries[0].map(\.count).reduce(0, +)
        #expect(positions.values.map(\.count).reduce(0, +) == delivered)
        if filters != ["quorum"] { #expect(decisions > 0) }
    }
}
