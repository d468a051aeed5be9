import Foundation

/// A `psync node` process started by a test, with its output in files and a bounded life.
final class NodeProcess {
    let process = Process()
    let host: Int
    let stdoutPath: String
    let stderrPath: String

    /// The `psync` binary built beside the test bundle (`swift build` builds both).
    static var binary: String {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("psync").path
        if FileManager.default.isExecutableFile(atPath: beside) { return beside }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/psync").path
    }

    /// Standard input of the process, when it was started with `input: true`.
    let input: Pipe?

    init(host: Int, arguments: [String], directory: String, launcher: [String] = [], input: Bool = false) throws {
        self.host = host
        stdoutPath = "\(directory)/out\(host)"
        stderrPath = "\(directory)/err\(host)"
        _ = FileManager.default.createFile(atPath: stdoutPath, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        let command = launcher + [NodeProcess.binary, "node", "--me", "\(host)"] + arguments
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        process.standardOutput = FileHandle(forWritingAtPath: stdoutPath)
        process.standardError = FileHandle(forWritingAtPath: stderrPath)
        self.input = input ? Pipe() : nil
        process.standardInput = self.input ?? FileHandle.nullDevice
        try process.run()
    }

    var output: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }
    var errors: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    /// Waits for the process to exit, at most `seconds`; kills it (and returns nil) after that.
    func wait(seconds: Double) async -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { try? await Task.sleep(nanoseconds: 20_000_000) }
        guard !process.isRunning else {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return nil
        }
        return process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
    }

    /// How the process ended and the end of what it printed on stderr, for failure messages.
    var report: String {
        let how = process.isRunning ? "running" : process.terminationReason == .uncaughtSignal
            ? "killed by signal \(process.terminationStatus)" : "exit \(process.terminationStatus)"
        return "host \(host) (\(how)): \(errors.suffix(2000))"
    }

    /// Waits until the node says it listens (its socket is bound). The output is read once more
    /// after the deadline: CPU-bound tests of other suites can hold the test's threads past it.
    func waitUntilListening(seconds: Double = 60) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline && process.isRunning && !errors.contains("listening on") {
            try? await Task.sleep(nanoseconds: 10_000_000)
        }
        return errors.contains("listening on")
    }

    func killHard() { kill(process.processIdentifier, SIGKILL) }

    func signal(_ number: Int32) { kill(process.processIdentifier, number) }
}

/// Starts `n` nodes on loopback with the same peer list, highest host first so that the opener
/// (host 0) starts last and its first packets find every socket bound.
func startNodes(_ n: Int, directory: String, arguments: (Int) -> [String]) async throws -> [NodeProcess] {
    let ports = try freePorts(n)
    let peers = (0..<n).map { "\($0)=127.0.0.1:\(ports[$0])" }.joined(separator: ",")
    var nodes: [NodeProcess] = []
    for i in (0..<n).reversed() {
        let node = try NodeProcess(host: i, arguments: ["--peers", peers, "--trace", "\(directory)/h\(i).jsonl.lz4"] + arguments(i),
                                   directory: directory)
        guard await node.waitUntilListening() else { throw NodeStartError(host: i, stderr: node.errors) }
        nodes.append(node)
    }
    return nodes.sorted { $0.host < $1.host }
}

struct NodeStartError: Error, CustomStringConvertible {
    var host: Int
    var stderr: String
    var description: String { "node \(host) did not start: \(stderr)" }
}
