/// Where a run stands, for a shell's progress reports (`Simulator.onProgress`).
public struct SimulationProgress: Sendable, Equatable {
    /// The virtual time reached.
    public var nanoseconds: UInt64
    public var events: Int
    public var packetsSent: Int
    /// Data messages sent so far, of the workload's total.
    public var dataSent: Int
    public var dataTotal: Int
}

extension Simulator {
    /// The run's hooks (`onProgress`, `shouldStop`) are consulted once every this many events:
    /// rarely enough to cost nothing measurable, often enough for a report a second.
    public static let checkpointEvents = 4096

    /// Where the run stands now. O(participants).
    public var progress: SimulationProgress {
        SimulationProgress(nanoseconds: now, events: eventsProcessed, packetsSent: network.packetsSent,
                           dataSent: apps.reduce(0) { $0 + $1.dataSent },
                           dataTotal: config.participants * config.workload.messagesPerParticipant)
    }

    /// Reports progress and asks whether to stop; called between events.
    func checkpoint() -> Bool {
        onProgress?(progress)
        return shouldStop?() ?? false
    }
}
