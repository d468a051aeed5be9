import Foundation
import Psync
import PsyncSimulator
import Testing
@testable import PsyncNIO

/// Several nodes in one test process, each on its own event loop and socket: the shell and the
/// async API, without process management.
@Suite struct InProcessNodeTests {
    @Test func threeNodesExchangeMessagesInContextOrder() async throws {
        let configs = try loopbackConfigs(3)
        var nodes: [PsyncNode] = []
        for c in configs { nodes.append(try await PsyncNode.start(c)) }
        let pids = (0..<3).map { ParticipantID(host: HostID(UInt32($0))) }
        let cid = ConversationID(7)
        let opener = try await nodes[0].open(pids, as: pids[0], conversation: cid)
        let hello = try await opener.send(Array("hello".utf8))
        #expect(hello == .root)
        let others = [try await nodes[1].waitForConversation(as: pids[1]), try await nodes[2].waitForConversation(as: pids[2])]
        var first: [Delivery] = []
        for c in others {
            var iterator = c.messages.makeAsyncIterator()
            first.append(try #require(await iterator.next()))
            _ = try await c.send(Array("ack from \(c.participant)".utf8))
        }
        #expect(first.map(\.payload) == [Array("hello".utf8), Array("hello".utf8)])
        // The root is stable at the opener once both acknowledgements arrived.
        var stable = false
        for _ in 0..<200 where !stable {
            stable = try await opener.stable(.root)
            if !stable { try await Task.sleep(nanoseconds: 5_000_000) }
        }
        #expect(stable)
        let leaves = try await opener.leaves()
        #expect(!leaves.isEmpty && !leaves.contains(.root))
        for n in nodes { try await n.shutdown() }
    }

    @Test func workloadUnderInjectedLossFinishesEverywhere() async throws {
        let configs = try loopbackConfigs(4, faults: { _ in LinkModel(delay: .constant(nanoseconds: 0), lossProbability: 0.05) })
        var started: [PsyncNode] = []
        for c in configs { started.append(try await PsyncNode.start(c)) }
        let nodes = started
        let pids = (0..<4).map { ParticipantID(host: HostID(UInt32($0))) }
        let workload = Workload(messagesPerParticipant: 100, meanIntervalNanoseconds: 1_000_000, settleTimeoutNanoseconds: 100_000_000)
        let outcomes = try await withThrowingTaskGroup(of: (Int, WorkloadOutcome).self) { group in
            for i in (0..<4).reversed() {
                group.addTask {
                    (i, try await nodes[i].runWorkload(workload, conversation: ConversationID(1), participants: pids, as: pids[i],
                                                      filters: .names(["waves"]), seed: UInt64(i)))
                }
            }
            var all: [Int: WorkloadOutcome] = [:]
            for try await (i, o) in group { all[i] = o }
            return all
        }
        for n in nodes { try await n.shutdown() }
        for i in 0..<4 {
            let data = outcomes[i]!.deliveries.filter { Workload.isData($0.payload) }
            #expect(data.count == 300, "participant \(i) got \(data.count) data messages from the others")
        }
    }
}
