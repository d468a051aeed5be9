#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Set by the SIGINT handler. A C signal handler cannot capture context, so what it sets must
/// be a global: an atomic flag, which a handler may store to and which is safe to share.
private let interruptRequested = Atomic<Bool>(false)

/// Ctrl-C (SIGINT) and SIGTERM as a request to stop rather than an abrupt end, for long runs:
/// the run stops between two events and its trace ends with an `end` record that says so.
enum Interruption {
    /// Runs `body` with SIGINT and SIGTERM caught: they only set `requested`, for `body` to
    /// notice. The default actions (ending the process) are restored afterwards.
    static func catching<T>(_ body: () throws -> T) rethrows -> T {
        for s in [SIGINT, SIGTERM] { signal(s) { _ in interruptRequested.store(true, ordering: .relaxed) } }
        defer { for s in [SIGINT, SIGTERM] { signal(s, SIG_DFL) } }
        return try body()
    }

    /// Whether Ctrl-C was pressed or SIGTERM came.
    static var requested: Bool { interruptRequested.load(ordering: .relaxed) }
}
