import Foundation
import Psync
import PsyncTrace

/// A simulation's configuration travels in its trace header, so that the trace alone is enough
/// to run it again (`psync trace replay --verify`, later). Foundation's JSON coder is used here
/// only, once per run, with sorted keys so the bytes are the same every time.
extension SimulationConfig {
    public var traceHeader: TraceHeader {
        TraceHeader(clock: "virtual", seed: seed, participants: participantIDs, conversation: conversation,
                    filters: filters, run: json)
    }

    public var json: JSONValue {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // Encoding plain value types cannot fail; a failure here is a programming error.
        let data = try! encoder.encode(self)
        return try! JSONParser.parse(String(decoding: data, as: UTF8.self))
    }

    /// The configuration a trace header carries.
    public init(traceHeader header: TraceHeader) throws {
        guard case .object = header.run else { throw TraceFormatError("the header carries no simulation configuration") }
        self = try JSONDecoder().decode(SimulationConfig.self, from: Data(header.run.text.utf8))
    }
}
