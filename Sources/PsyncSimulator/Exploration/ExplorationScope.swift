import Psync

/// A small conversation to explore exhaustively (`psync explore`): who takes part, how much
/// each sends, through which filters, and how many faults the network may commit. The rest is
/// the simulator's workload (`Workload`) with its defaults, so an explored scope is a
/// simulated run whose every ordering is tried.
public struct ExplorationScope: Codable, Sendable, Equatable {
    public var participants: Int
    public var messagesPerParticipant: Int
    /// The filter stack, bottom first (`FilterRegistry` names); empty: Psync alone.
    public var filters: [String]
    /// The workload's shape: nil (independent senders), ring or replicated.
    public var pattern: Workload.Pattern?
    /// The workload's application acknowledgements (Figure 8's ACKs once a budget is spent).
    public var acknowledges: Bool
    /// The workload's rounds of resends of data that is not stable once its budget is spent
    /// (`Workload.settleAttempts`, 12 in a simulation): each round sets off digests between
    /// every two hosts, whose orders multiply the states, so a scope tries one by default.
    public var settleAttempts: Int
    /// At most this many packets lost, duplicated, and participants crashed, anywhere.
    public var losses: Int
    public var duplicates: Int
    public var crashes: Int
    /// Links keep order (each packet, in its turn, arrives, is lost or duplicated): a smaller
    /// model than the paper's network, which reorders, for scopes too large without it.
    public var fifo: Bool
    /// The engine's settings (recovery policy, memory management).
    public var host: HostConfig

    public init(participants: Int = 3, messagesPerParticipant: Int = 2, filters: [String] = [],
                pattern: Workload.Pattern? = nil, acknowledges: Bool = true, settleAttempts: Int = 1,
                losses: Int = 0, duplicates: Int = 0, crashes: Int = 0, fifo: Bool = false, host: HostConfig = HostConfig()) {
        self.participants = participants
        self.messagesPerParticipant = messagesPerParticipant
        self.filters = filters
        self.pattern = pattern
        self.acknowledges = acknowledges
        self.settleAttempts = settleAttempts
        self.losses = losses
        self.duplicates = duplicates
        self.crashes = crashes
        self.fifo = fifo
        self.host = host
    }

    /// The simulation the explorer drives. The network neither loses nor delays on its own:
    /// the explorer chooses every delivery, loss and duplication.
    public var simulation: SimulationConfig {
        SimulationConfig(seed: 1, participants: participants,
                         workload: Workload(messagesPerParticipant: messagesPerParticipant, acknowledges: acknowledges,
                                            settleAttempts: settleAttempts, pattern: pattern),
                         network: NetworkModel(link: LinkModel(delay: .constant(nanoseconds: 1_000_000))),
                         host: host, filters: filters)
    }

    public var description: String {
        "\(participants) participants x \(messagesPerParticipant) messages"
            + (pattern.map { ", \($0.rawValue)" } ?? "")
            + ", filters " + (filters.isEmpty ? "none" : filters.joined(separator: ","))
            + ", at most \(losses) lost, \(duplicates) duplicated, \(crashes) crashed" + (fifo ? ", FIFO links" : "")
    }
}
