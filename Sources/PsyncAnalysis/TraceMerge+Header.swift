import Psync
import PsyncTrace

extension TraceMerge {
    /// Why traces cannot be merged: nothing is streamed.
    public enum Failure: Error, Equatable, CustomStringConvertible {
        /// A file that cannot be read as a trace at all.
        case unreadable(path: String, TraceError)
        /// A file that is not one process's trace of a real run: a simulation's (clock
        /// `virtual`) already holds every host, so merging it could only mix up two runs.
        case notARealRun(path: String, clock: String)
        /// Two files of one host: a run has one process, so one trace, per host.
        case sameHost(HostID, String, String)
        /// The headers disagree about what ran (`field`), so the files are not of one run.
        case disagree(field: String, detail: String)

        public var description: String {
            switch self {
            case .unreadable(let path, let error):
                "\(path): \(error)"
            case .notARealRun(let path, "virtual"):
                "\(path): a simulation's trace (clock \"virtual\") already holds every host; merging is for the per-process traces of one real run"
            case .notARealRun(let path, let clock):
                "\(path): not a real run's trace (clock \"\(clock)\", no run.real_run in its header)"
            case .sameHost(let host, let a, let b):
                "\(a) and \(b) are both traces of host \(host.rawValue): give one trace per process of one run"
            case .disagree(let field, let detail):
                "the traces are not of one run: their headers disagree on \(field) (\(detail))"
            }
        }
    }

    /// The header of the merged stream: participants the union of the files' lists (in the
    /// order they list them), the conversation and filters the headers agree on, clock
    /// `monotonic`, no seed (a real run has none), and `run` = `{"merged": [each file's run]}` so
    /// that every process's settings stay on record.
    static func mergedHeader(_ files: [(path: String, header: TraceHeader)]) throws(Failure) -> TraceHeader {
        var participants: [ParticipantID] = []
        for (_, header) in files { participants += header.participants.filter { !participants.contains($0) } }
        // Message ids name senders by list position: a file ordering two participants the other
        // way round from the union would have them mislabelled.
        for (path, header) in files {
            let positions = header.participants.compactMap { participants.firstIndex(of: $0) }
            guard positions == positions.sorted() else {
                throw .disagree(field: "participants", detail: "\(path) lists \(header.participants), against \(participants)")
            }
        }
        return TraceHeader(clock: "monotonic", seed: nil, participants: participants,
                           conversation: try agreed("conversation", files) { $0.conversation },
                           filters: try agreed("filters", files) { $0.filters } ?? [],
                           run: .object([("merged", .array(files.map { $0.header.run }))]))
    }

    /// The value every header gives (headers giving nil say nothing), or `.disagree` naming two
    /// files that differ.
    static func agreed<T: Equatable>(_ field: String, _ files: [(path: String, header: TraceHeader)],
                                     _ value: (TraceHeader) -> T?) throws(Failure) -> T? {
        let said = files.compactMap { file in value(file.header).map { (path: file.path, value: $0) } }
        guard let first = said.first else { return nil }
        if let other = said.first(where: { $0.value != first.value }) {
            throw .disagree(field: field, detail: "\(first.path) says \(first.value), \(other.path) says \(other.value)")
        }
        return first.value
    }
}
