#if canImport(Glibc)
import Glibc
#endif
import PsyncSimulator

/// A long run's progress on stderr, one line rewritten in place (`\r`) about once a second of
/// wall time, and cleared at the end. Only when stderr is a terminal (`make`), so that logs and
/// pipes stay clean.
final class ProgressLine {
    private let clock = ContinuousClock()
    private var lastShown: ContinuousClock.Instant
    private var shown = false
    private var standardError = StandardError()

    private init() { lastShown = clock.now }

    /// A progress line if stderr is a terminal, else nil.
    static func make() -> ProgressLine? { isatty(STDERR_FILENO) != 0 ? ProgressLine() : nil }

    func update(_ p: SimulationProgress) {
        update("simulating: \(formatMilliseconds(p.nanoseconds)) of virtual time, \(p.events) events, "
               + "\(p.packetsSent) packets, \(p.dataSent) of \(p.dataTotal) data messages sent")
    }

    func update(_ text: @autoclosure () -> String) {
        let now = clock.now
        guard now - lastShown >= .seconds(1) else { return }
        lastShown = now
        shown = true
        standardError.write("\r\u{1B}[K" + text())
    }

    func clear() {
        if shown { standardError.write("\r\u{1B}[K") }
    }
}
