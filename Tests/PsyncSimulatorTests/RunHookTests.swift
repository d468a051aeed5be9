import Testing
import Psync
import PsyncSimulator

/// A shell's hooks into a run: where it stands every `checkpointEvents` events, and a request to
/// stop, honoured between two events.
@Suite struct RunHookTests {
    static let long = SimulationConfig(seed: 1, participants: 4, workload: Workload(messagesPerParticipant: 300))

    @Test func aRunStopsWhenAsked() {
        let simulator = Simulator(Self.long)
        var reports: [SimulationProgress] = []
        simulator.onProgress = { reports.append($0) }
        simulator.shouldStop = { !reports.isEmpty }
        let result = simulator.run()
        #expect(reports.map(\.events) == [Simulator.checkpointEvents])
        #expect(simulator.eventsProcessed == Simulator.checkpointEvents)
        #expect(result.interruptedAtNanoseconds == reports[0].nanoseconds)
        #expect(result.dataSent == reports[0].dataSent && result.dataSent < reports[0].dataTotal)
        #expect(SimulationSummary(result).text.contains("interrupted at:"))
    }

    @Test func aRunNotAskedToStopDrains() {
        let simulator = Simulator(Self.long)
        var reports = 0
        simulator.onProgress = { _ in reports += 1 }
        simulator.shouldStop = { false }
        let result = simulator.run()
        #expect(result.interruptedAtNanoseconds == nil)
        #expect(reports == simulator.eventsProcessed / Simulator.checkpointEvents && reports >= 1)
        #expect(result.dataSent == 4 * 300)
        #expect(SimulationSummary(result).text.contains("time to quiescence:"))
    }
}
