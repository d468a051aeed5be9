import Psync

#if canImport(Glibc)
import Glibc
#endif

/// What the header of a real run's trace says about its clock (`psync node`, `PsyncNIO`).
///
/// Each process of a real run writes its own trace. Its `t` is CLOCK_MONOTONIC in nanoseconds:
/// one clock for every process of one machine (same boot), so traces of one machine merge by
/// `t` alone. Monotonic clocks of different machines are unrelated: merging them goes through
/// each process's wall clock at start (`wallClockAtStartNanoseconds` - `monotonicAtStartNanoseconds`
/// is its offset), which is only as good as the machines' clock synchronisation (NTP: about a
/// millisecond on a LAN). `Traces/FORMAT.md` says what that does to latencies and checks.
public struct RealRun: Sendable, Equatable {
    /// The host that wrote the trace.
    public var host: HostID
    /// The kernel's boot id (`/proc/sys/kernel/random/boot_id`): equal ids share a monotonic clock.
    public var bootID: String
    public var monotonicAtStartNanoseconds: UInt64
    /// Nanoseconds since 1970 at start, read together with `monotonicAtStartNanoseconds`.
    public var wallClockAtStartNanoseconds: UInt64
    /// The node's settings (listen address, peers, filters, faults, workload), for the record.
    public var settings: JSONValue

    public init(host: HostID, bootID: String, monotonicAtStartNanoseconds: UInt64,
                wallClockAtStartNanoseconds: UInt64, settings: JSONValue = .object([])) {
        self.host = host
        self.bootID = bootID
        self.monotonicAtStartNanoseconds = monotonicAtStartNanoseconds
        self.wallClockAtStartNanoseconds = wallClockAtStartNanoseconds
        self.settings = settings
    }

    /// The run of a process starting now on `host`.
    public static func startingNow(host: HostID, settings: JSONValue = .object([])) -> RealRun {
        let monotonic = monotonicNanoseconds()
        var wall = timespec()
        clock_gettime(CLOCK_REALTIME, &wall)
        return RealRun(host: host, bootID: readBootID(), monotonicAtStartNanoseconds: monotonic,
                       wallClockAtStartNanoseconds: UInt64(wall.tv_sec) * 1_000_000_000 + UInt64(wall.tv_nsec),
                       settings: settings)
    }

    /// What the header's `run` field carries: `{"real_run": {...}}`.
    public var json: JSONValue {
        .object([("real_run", .object([
            ("host", .uint(UInt64(host.rawValue))),
            ("boot_id", .string(bootID)),
            ("monotonic_at_start_ns", .uint(monotonicAtStartNanoseconds)),
            ("wall_clock_at_start_ns", .uint(wallClockAtStartNanoseconds)),
            ("settings", settings),
        ]))])
    }

    /// The real run a header describes; nil for a simulation's header.
    public init?(_ header: TraceHeader) {
        guard header.clock == "monotonic", let r = header.run["real_run"],
              let host = r["host"]?.uint64, let boot = r["boot_id"]?.string,
              let mono = r["monotonic_at_start_ns"]?.uint64, let wall = r["wall_clock_at_start_ns"]?.uint64
        else { return nil }
        self.init(host: HostID(UInt32(truncatingIfNeeded: host)), bootID: boot, monotonicAtStartNanoseconds: mono,
                  wallClockAtStartNanoseconds: wall, settings: r["settings"] ?? .object([]))
    }

    /// CLOCK_MONOTONIC in nanoseconds: the `t` of real runs.
    public static func monotonicNanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }

    static func readBootID() -> String {
        guard let file = fopen("/proc/sys/kernel/random/boot_id", "r") else { return "" }
        defer { fclose(file) }
        var buffer = [CChar](repeating: 0, count: 64)
        guard fgets(&buffer, Int32(buffer.count), file) != nil else { return "" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            .trimmingCharacters(in: " \n")
    }
}

extension TraceEvent.Kind {
    public var isEnd: Bool { if case .end = self { true } else { false } }
}

extension String {
    fileprivate func trimmingCharacters(in set: String) -> String {
        var s = Substring(self)
        while let c = s.first, set.contains(c) { s.removeFirst() }
        while let c = s.last, set.contains(c) { s.removeLast() }
        return String(s)
    }
}
