import Psync
import PsyncFilters
import PsyncSimulator
import PsyncTrace

/// `psync trace replay --verify`: runs the simulation a trace's header describes and compares
/// what it records, event for event, with the file. Simulations are deterministic, so any
/// difference means the trace was edited or damaged, or the toolkit's behaviour changed.
public enum ReplayVerifier {
    public struct Divergence: Sendable {
        /// 1-based position of the first differing record (the header is record 1).
        public var record: Int
        public var inTrace: String?
        public var inReplay: String?
    }

    public enum Outcome: Sendable {
        case identical(records: Int)
        case diverged(Divergence)
    }

    public enum Failure: Error, CustomStringConvertible {
        case notASimulation(String)
        case unreadable(TraceError)
        /// The trace's filter stack is one the factory cannot make (an outside filter that is
        /// not registered): replay it with the program that registers it.
        case unknownFilter(String)
        public var description: String {
            switch self {
            case .notASimulation(let why): "cannot replay: \(why)"
            case .unreadable(let e): "\(e)"
            case .unknownFilter(let why): "cannot replay: \(why)"
            }
        }
    }

    /// Replays the trace at `path`, its filters made by `factory`, and compares.
    public static func verify(_ path: String, factory: @escaping FilterFactory = FilterRegistry.makeStack) throws(Failure) -> Outcome {
        let reader: TraceReader
        do { reader = try TraceReader(path: path) } catch { throw .unreadable(error) }
        let config: SimulationConfig
        do { config = try SimulationConfig(traceHeader: reader.header) } catch {
            throw .notASimulation("the header carries no simulation configuration (\(error))")
        }
        do { _ = try factory(config.filters) } catch { throw .unknownFilter("\(error)") }
        let sink = ComparingSink(reader: reader, config: config)
        Simulator(config, trace: sink, factory: factory).run()
        if let d = sink.divergence { return .diverged(d) }
        // The replay is done; the trace must be too.
        do {
            if let extra = try reader.next() {
                return .diverged(Divergence(record: sink.compared + 1, inTrace: extra.jsonLine, inReplay: nil))
            }
        } catch {
            return .diverged(Divergence(record: sink.compared + 1, inTrace: "\(error)", inReplay: nil))
        }
        return .identical(records: sink.compared)
    }

    /// Receives the replay's events and compares each with the file's next record.
    final class ComparingSink: TraceSink {
        let reader: TraceReader
        let config: SimulationConfig
        var compared = 0
        var divergence: Divergence?

        init(reader: TraceReader, config: SimulationConfig) {
            self.reader = reader
            self.config = config
        }

        func record(_ event: TraceEvent) {
            guard divergence == nil else { return }
            compared += 1
            let expected: String?
            if case .header(let replayed) = event.kind {
                // The same configuration, however an older toolkit spelled it (settings added
                // since are written out now, with the values the older run had).
                if (try? SimulationConfig(traceHeader: replayed)) == config { return }
                expected = TraceEvent(time: 0, host: nil, .header(reader.header)).jsonLine
            } else {
                do { expected = try reader.next()?.jsonLine } catch { expected = "\(error)" }
            }
            let actual = event.jsonLine
            if expected != actual { divergence = Divergence(record: compared, inTrace: expected, inReplay: actual) }
        }

        func close() throws(TraceError) {}
    }
}
