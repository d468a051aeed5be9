#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Set by the SIGINT handler. A C signal handler cannot capture context, so what it sets must
/// be a global: an atomic flag, which a handler may store to and which is safe to share.
private let interruptRequested = Atomic<Bool>(false)

/// Ctrl-C as a request to stop rather than an abrupt end, for long runs.
enum Interruption {
    /// Runs `body` with SIGINT caught: it only sets `requested`, for `body` to notice. The
    /// default action (ending the process) is restored afterwards.
    static func catching<T>(_ body: () throws -> T) rethrows -> T {
        signal(SIGINT) { _ in interruptRequested.store(true, ordering: .relaxed) }
        defer { signal(SIGINT, SIG_DFL) }
        return try body()
    }

    /// Whether Ctrl-C was pressed.
    static var requested: Bool { interruptRequested.load(ordering: .relaxed) }
}
