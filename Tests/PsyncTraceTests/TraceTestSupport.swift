import Foundation
import Psync
import PsyncSimulator
import PsyncTrace

/// A fresh path in a temporary directory.
func temporaryPath(_ name: String) -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("psync-trace-tests-\(getpid())")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir.appendingPathComponent(name).path
}

/// Runs a command; returns its standard output and exit status.
@discardableResult
func run(_ executable: String, _ arguments: [String], stdin: Data? = nil) throws -> (output: Data, status: Int32, error: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [executable] + arguments
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    if let stdin {
        let inPipe = Pipe()
        process.standardInput = inPipe
        try process.run()
        inPipe.fileHandleForWriting.write(stdin)
        try inPipe.fileHandleForWriting.close()
    } else {
        try process.run()
    }
    let data = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (data, process.terminationStatus, String(decoding: errData, as: UTF8.self))
}

/// A small simulated run written to `path` with frames of at most `framesOf` records.
@discardableResult
func writeSimulationTrace(_ path: String, seed: UInt64 = 3, loss: Double = 0.1, framesOf records: Int = 16_384) throws -> SimulationResult {
    var options = LZ4TraceWriter.Options()
    options.maxFrameRecords = records
    let writer = try LZ4TraceWriter(path: path, options: options)
    var config = SimulationConfig(seed: seed, participants: 3)
    config.network.link.lossProbability = loss
    config.network.link.reorderProbability = 0.1
    let result = Simulator(config, trace: writer).run()
    try writer.close()
    return result
}

func lines(_ data: Data) -> [String] {
    String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
}
