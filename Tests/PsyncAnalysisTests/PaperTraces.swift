import Foundation
import Psync
import PsyncSimulator
import PsyncTrace

/// Traces of the paper's Figures 1 and 2, recorded from the engine over a hand-driven network
/// (the scenarios of Tests/PsyncTests), for golden tests of the offline tools.
enum PaperTraces {
    static let cid = ConversationID(42)

    final class Run {
        let sink = MemoryTraceSink()
        let net: ManualNetwork
        let pids: [ParticipantID]

        init(_ n: Int) {
            net = ManualNetwork(hostCount: n, trace: sink)
            pids = (0..<n).map { ParticipantID(host: HostID(UInt32($0))) }
            sink.record(TraceEvent(time: 0, host: nil, .header(TraceHeader(clock: "virtual", seed: nil, participants: pids, conversation: cid))))
            try! net[0].activeOpen(pids, as: pids[0], conversation: cid)
            for i in 1..<n { _ = net[i].passiveOpen(pids[i], now: net.now) }
            net.collectAll()
        }

        @discardableResult
        func send(_ i: Int) -> MessageID {
            net.advance(by: 1_000_000)
            let m = try! net[i].send([UInt8(i)], in: cid, as: pids[i], now: net.now)
            net.collect(i)
            return m
        }

        func receiveAll(_ i: Int) {
            while (try! net[i].receive(cid, as: pids[i])) != nil {}
            net.collect(i)
        }

        func deliver(_ m: MessageID, to hosts: [Int]? = nil) {
            net.advance(by: 1_000_000)
            net.deliver { $0.packet.message == m && (hosts?.contains(Int($0.to.rawValue)) ?? true) }
        }

        func everything() {
            net.advance(by: 1_000_000)
            net.deliverAll()
            for i in pids.indices { receiveAll(i) }
        }
    }

    /// Figure 1: a sends m1 and m5, b sends m2, c sends m3 and m4 (without m2), d only receives.
    static func figure1() -> [TraceEvent] {
        let r = Run(4)
        let m1 = r.send(0)
        r.deliver(m1, to: [1, 2])
        r.receiveAll(1); r.receiveAll(2)
        let m2 = r.send(1)
        let m3 = r.send(2)
        let m4 = r.send(2)
        r.deliver(m2, to: [0, 2]); r.deliver(m3, to: [0, 1]); r.deliver(m4, to: [0, 1])
        r.receiveAll(0)
        r.send(0)
        r.everything()
        return r.sink.events
    }

    /// Figure 2: a1 -> b1 -> c1 -> {a2, b2}, a2 -> a3; a1, b1, c1 are the only stable messages.
    static func figure2() -> [TraceEvent] {
        let r = Run(3)
        r.send(0)
        r.everything()
        let b1 = r.send(1)
        r.deliver(b1); r.receiveAll(2); r.receiveAll(0)
        let c1 = r.send(2)
        r.deliver(c1); r.receiveAll(0); r.receiveAll(1)
        r.send(0); r.send(1); r.send(0)
        r.everything()
        return r.sink.events
    }

    static func write(_ events: [TraceEvent], to path: String) throws {
        let writer = try LZ4TraceWriter(path: path)
        for e in events { writer.record(e) }
        try writer.close()
    }
}

func temporaryPath(_ name: String) -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("psync-analysis-tests-\(getpid())")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir.appendingPathComponent(name).path
}

/// Runs a command; returns its standard output, standard error and exit status.
func run(_ executable: String, _ arguments: [String], input: String? = nil) throws -> (output: String, error: String, status: Int32) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [executable] + arguments
    let out = Pipe(), err = Pipe(), inp = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = inp
    try process.run()
    if let input { inp.fileHandleForWriting.write(Data(input.utf8)) }
    try inp.fileHandleForWriting.close()
    let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self), process.terminationStatus)
}
