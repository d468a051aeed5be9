import Psync
import PsyncTrace

/// The per-process traces of one real run merged into one stream, as if one trace had recorded
/// every host: what `psync trace check|dot|stats|compare|export|cat` read when given several
/// files (through `TraceStream.read(_: [String], _:)`).
///
/// A real run (one process per host) leaves one trace per process, each with a `RealRun` header
/// and its process's own clock, while the offline tools, built on simulations, want the whole
/// run in one time-ordered stream. `Traces/FORMAT.md` ("Real runs: one trace per process") is
/// the user's account of what follows.
///
/// - Order: a streaming k-way merge. Each file's `TraceReader` is pulled one record at a time,
///   so memory is the readers' buffers (about 320 KiB a file) whatever the files' sizes. The
///   next record is the earliest of the files' next records; ties go to the file given first,
///   and a file's records keep their order (the merge is stable). The heads are scanned rather
///   than kept in a heap: a run has few hosts.
/// - Time: merged `t` counts nanoseconds from the earliest process start. Processes of one
///   machine (same boot id) share CLOCK_MONOTONIC, so their records keep their exact relative
///   times. Different machines are put on one time base by wall clock: each machine's monotonic
///   readings are shifted by wall clock minus monotonic clock at the start of its first process
///   given, which is only as good as the machines' clock synchronisation. A trace with an empty
///   boot id counts as a machine of its own. A record stamped before its own process's start
///   (which one monotonic clock cannot produce) is placed at that start.
/// - Ends: a file whose last record is not `end` belongs to a process that did not end on
///   purpose (killed, crashed). Right after its last record the merge adds a `crash` record of
///   its host, so the checker leaves that host out of convergence exactly as it does a crashed
///   simulated host. What it sent in its lost trace tail, other hosts' `arrive` records tell
///   (`TraceGraph` learns such messages from them). A file cut inside its last frame (`TraceError.truncated`) is a writer that
///   died mid-frame: every complete record is there, so it is merged like any other (a crash
///   unless `end` made it into a complete block) and only noted. Damage that loses records the
///   process did write (`.corrupt`, a bad record, a read error) makes the merged stream
///   incomplete, like a single trace cut at the damage: `damage` says where, that host gets no
///   crash record (what it did afterwards is unknown, not absent), and the stream ends at its
///   last record read, since other hosts' later records would refer to its lost ones (a receive
///   of a message whose send is lost reads as a violation).
public final class TraceMerge {
    /// The merged header (see `mergedHeader`).
    public let header: TraceHeader
    /// What the user should know about the merge: hosts merged as crashed, truncated files,
    /// machines aligned by wall clock, and which damaged file cut the stream short, where.
    public private(set) var notes: [String] = []
    /// The first damage that ended a file before its last written record, and that file; nil
    /// while every record written is in the stream.
    public private(set) var damage: (path: String, error: TraceError)?

    private var inputs: [Input]
    /// Where damage ends the stream: the damaged file's last record read.
    private var horizon = UInt64.max

    /// One file being merged.
    private struct Input {
        let path: String
        let reader: TraceReader
        let host: HostID
        /// The process's start on its own monotonic clock.
        let start: UInt64
        /// Added (wrapping, so it may stand for a negative number) to a monotonic reading of this
        /// process to give merged time.
        let shift: UInt64
        /// The next record to merge, in merged time; nil once the file is done.
        var head: TraceEvent?
        /// Whether the last record read is `end`.
        var ended = false
        /// Whether the reader is done; `head` is then the crash record added after it, if any.
        var exhausted = false

        func mergedTime(_ t: UInt64) -> UInt64 { max(t, start) &+ shift }

        /// While `head` is being replaced: the time of the record just merged, or the process's
        /// start before the first.
        var lastTime: UInt64 { head?.time ?? mergedTime(start) }
    }

    /// Opens every file and reads each one's first record. Throws when a file is not a trace,
    /// is not a real run's (a simulation's trace already holds every host), repeats a host, or
    /// when the headers disagree about the run.
    public init(paths: [String]) throws(Failure) {
        precondition(!paths.isEmpty, "merging needs at least one trace")
        var readers: [TraceReader] = []
        var runs: [RealRun] = []
        for path in paths {
            let reader: TraceReader
            do { reader = try TraceReader(path: path) } catch { throw .unreadable(path: path, error) }
            guard let run = RealRun(reader.header) else { throw .notARealRun(path: path, clock: reader.header.clock) }
            if let k = runs.firstIndex(where: { $0.host == run.host }) { throw .sameHost(run.host, paths[k], path) }
            readers.append(reader)
            runs.append(run)
        }
        header = try Self.mergedHeader(zip(paths, readers).map { ($0, $1.header) })
        let (shifts, machines) = Self.clockShifts(runs)
        inputs = paths.indices.map { i in
            Input(path: paths[i], reader: readers[i], host: runs[i].host, start: runs[i].monotonicAtStartNanoseconds, shift: shifts[i])
        }
        if machines > 1 {
            notes.append("the traces come from \(machines) machines (boot ids), aligned by wall clock at start: "
                         + "times across machines carry the offset between their clocks")
        }
        for i in inputs.indices { advance(i) }
    }

    /// The next record of the run, or nil at the end: every file done, or damage cut the stream.
    public func next() -> TraceEvent? {
        var earliest: (index: Int, time: UInt64)?
        for (i, input) in inputs.enumerated() {
            guard let t = input.head?.time, earliest.map({ t < $0.time }) ?? true else { continue }
            earliest = (i, t)
        }
        guard let i = earliest?.index, let event = inputs[i].head, event.time <= horizon else { return nil }
        advance(i)
        return event
    }

    /// Replaces file `i`'s head with its next record; after its last one, with a `crash` record
    /// of its host if that record is not `end`.
    private func advance(_ i: Int) {
        let input = inputs[i]
        inputs[i].head = nil
        guard !input.exhausted else { return }
        do {
            if var event = try input.reader.next() {
                event.time = input.mergedTime(event.time)
                inputs[i].head = event
                inputs[i].ended = event.kind.isEnd
                return
            }
        } catch .truncated(let offset, _) {
            notes.append("\(input.path): cut inside its last frame at byte \(offset) (its writer died mid-frame); every complete record is merged")
        } catch {
            if damage == nil { damage = (input.path, error) }
            horizon = min(horizon, input.lastTime)
            notes.append("\(input.path) is damaged after t=\(input.lastTime) (its last record read): the merged stream stops there")
            inputs[i].exhausted = true
            return
        }
        inputs[i].exhausted = true
        if !input.ended {
            inputs[i].head = TraceEvent(time: input.lastTime, host: input.host, .crash)
            notes.append("\(input.path): host \(input.host) has no end record (killed or crashed): merged as a crash after its last record (t=\(input.lastTime))")
        }
    }

    /// Per file, what to add to its monotonic readings to get merged time, and how many
    /// separate clocks (machines) that aligns.
    static func clockShifts(_ runs: [RealRun]) -> (shifts: [UInt64], machines: Int) {
        // Wall clock minus monotonic clock (wrapping), per machine: that of its first process.
        var machineOffsets: [String: UInt64] = [:]
        var machines = 0
        let offsets = runs.map { run in
            let own = run.wallClockAtStartNanoseconds &- run.monotonicAtStartNanoseconds
            if let known = machineOffsets[run.bootID] { return known }
            machines += 1
            if !run.bootID.isEmpty { machineOffsets[run.bootID] = own }
            return own
        }
        let base = zip(runs, offsets).map { $0.monotonicAtStartNanoseconds &+ $1 }.min()!
        return (offsets.map { $0 &- base }, machines)
    }
}
