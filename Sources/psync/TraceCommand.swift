import ArgumentParser
import PsyncTrace
#if canImport(Glibc)
import Glibc
#endif

/// `psync trace`: tools over trace files.
struct TraceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace", abstract: "Read trace files.", subcommands: [TraceCat.self])
}

/// `psync trace cat FILE`: the trace as JSON Lines, like `lz4 -dc FILE`, but checked: every
/// record is decoded and re-encoded, and damage is reported with its byte offset.
struct TraceCat: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cat", abstract: "Print a trace as JSON Lines (exit 1 if it is damaged).")

    @Argument(help: "A trace file (.jsonl.lz4).") var file: String

    func run() throws {
        do throws(TraceError) {
            let reader = try TraceReader(path: file)
            print(TraceEvent(time: 0, host: nil, .header(reader.header)).jsonLine)
            try reader.forEach { print($0.jsonLine) }
        } catch {
            printError("psync trace cat: \(file): \(error)")
            throw ExitCode(1)
        }
    }
}

func printError(_ message: String) {
    var standardError = StandardError()
    print(message, to: &standardError)
}

struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        _ = string.withCString { Glibc.write(2, $0, strlen($0)) }
    }
}
