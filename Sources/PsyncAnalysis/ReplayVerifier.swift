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
        /// The file ends before the re-run does, without its `end` record: a run cut short,
        /// whose first `records` records agree with the re-run; what followed cannot be known.
        case incomplete(records: Int)
        public var description: String {
            switch self {
            case .notASimulation(let why): "cannot replay: \(why)"
            case .unreadable(let e): "\(e)"
            case .unknownFilter(let why): "cannot replay: \(why)"
            case .incomplete(let n): "cannot tell: the trace ends without its end record (the run was cut short); its \(n) records agree with the re-run"
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
        // A model checker's counterexample was not drawn from its seed: each step was chosen.
        if (try? TraceStream.read(path) { _ in })?.isCounterexample == true {
            throw .notASimulation("a counterexample of psync explore: its steps were chosen, not drawn from the seed "
                                  + "(walk it with --step; its scenario test, explore --test, replays it)")
        }
        // A header may have been edited into a run that cannot be made (no participants, a
        // zero wire limit) or would never end (10^12 messages): refused, not attempted.
        let problems = config.problems(factory: factory)
        guard problems.isEmpty else {
            throw .notASimulation("its configuration cannot run: " + problems.joined(separator: "; "))
        }
        let sink = ComparingSink(reader: reader, config: config)
        let simulator = Simulator(config, trace: sink, factory: factory)
        // The first difference settles it; the rest of the run need not be simulated.
        simulator.shouldStop = { sink.divergence != nil || sink.damage != nil || sink.endedEarly }
        simulator.run()
        // Damage is not a difference: what the rest of the file said cannot be known.
        if let damage = sink.damage { throw .unreadable(damage) }
        if sink.endedEarly { throw .incomplete(records: sink.compared - 1) }
        if let d = sink.divergence { return .diverged(d) }
        // The replay is done; the trace must be too.
        do {
            if let extra = try reader.next() {
                return .diverged(Divergence(record: sink.compared + 1, inTrace: extra.jsonLine, inReplay: nil))
            }
        } catch {
            throw .unreadable(error)
        }
        return .identical(records: sink.compared)
    }

    /// Receives the replay's events and compares each with the file's next record.
    final class ComparingSink: TraceSink {
        let reader: TraceReader
        let config: SimulationConfig
        var compared = 0
        var divergence: Divergence?
        /// Why the file could not be read to the record compared last.
        var damage: TraceError?
        /// Whether the file ended before the re-run: every record before agreed, so the last one
        /// was not the `end` record (the re-run's would not have agreed with it).
        var endedEarly = false

        init(reader: TraceReader, config: SimulationConfig) {
            self.reader = reader
            self.config = config
        }

        func record(_ event: TraceEvent) {
            guard divergence == nil, damage == nil, !endedEarly else { return }
            compared += 1
            let expected: String?
            if case .header(let replayed) = event.kind {
                // The same configuration, however an older toolkit spelled it (settings added
                // since are written out now, with the values the older run had).
                if (try? SimulationConfig(traceHeader: replayed)) == config { return }
                expected = TraceEvent(time: 0, host: nil, .header(reader.header)).jsonLine
            } else {
                do {
                    guard let next = try reader.next() else {
                        endedEarly = true
                        return
                    }
                    expected = next.jsonLine
                } catch {
                    damage = error
                    return
                }
            }
            let actual = event.jsonLine
            if expected != actual { divergence = Divergence(record: compared, inTrace: expected, inReplay: actual) }
        }

        func close() throws(TraceError) {}
    }
}
