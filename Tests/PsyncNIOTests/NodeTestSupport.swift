import Foundation
import Synchronization
import NIOCore
import NIOPosix
import Psync
import PsyncSimulator
import PsyncFilters
@testable import PsyncNIO

/// Ports this test process has handed out: tests run concurrently, and a port released by one
/// `freePorts` call must not be handed to another before its node binds it.
private let handedOut = Mutex<Set<Int>>([])

/// Free loopback UDP ports (`LoopbackPorts`), never the same twice in one test process.
func freePorts(_ count: Int) throws -> [Int] {
    var ports: [Int] = []
    while ports.count < count {
        for port in try LoopbackPorts.free(count - ports.count) where handedOut.withLock({ $0.insert(port).inserted }) {
            ports.append(port)
        }
    }
    return ports
}

/// Configurations of `n` nodes on loopback (hosts 0..<n), each listing the others.
func loopbackConfigs(_ n: Int, faults: (Int) -> LinkModel = { _ in FaultInjector.none.link },
                     tracePaths: [String?]? = nil) throws -> [NodeConfig] {
    let ports = try freePorts(n)
    var book = PeerAddressBook()
    for i in 0..<n { try book.add(HostID(UInt32(i)), at: .init(address: "127.0.0.1", port: ports[i])) }
    var configs: [NodeConfig] = []
    for i in 0..<n {
        let h = HostID(UInt32(i))
        let trace: String? = tracePaths.flatMap { $0[i] }
        configs.append(NodeConfig(host: h, listen: book.endpoint(of: h)!, peers: book, seed: UInt64(i + 1),
                                  faults: faults(i), tracePath: trace))
    }
    return configs
}

func temporaryDirectory() -> String {
    let path = NSTemporaryDirectory() + "psync-nio-\(UUID().uuidString)"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// Runs `workload` on `n` in-process nodes on loopback (5% or `loss` injected), participant i
/// on host i, and returns each participant's outcome.
func runOnNodes(_ n: Int, _ workload: Workload, filters: FilterChoice, seed: UInt64, loss: Double) async throws -> [WorkloadOutcome] {
    let configs = try loopbackConfigs(n, faults: { _ in LinkModel(delay: .constant(nanoseconds: 0), lossProbability: loss) })
    var started: [PsyncNode] = []
    for c in configs { started.append(try await PsyncNode.start(c)) }
    let nodes = started
    let pids = (0..<n).map { ParticipantID(host: HostID(UInt32($0))) }
    let outcomes = try await withThrowingTaskGroup(of: (Int, WorkloadOutcome).self) { group in
        for i in (0..<n).reversed() {
            group.addTask {
                (i, try await nodes[i].runWorkload(workload, conversation: ConversationID(1), participants: pids, as: pids[i],
                                                  filters: filters, seed: seed + UInt64(i)))
            }
        }
        var all: [Int: WorkloadOutcome] = [:]
        for try await (i, o) in group { all[i] = o }
        return (0..<n).map { all[$0]! }
    }
    for node in nodes { try await node.shutdown() }
    return outcomes
}
