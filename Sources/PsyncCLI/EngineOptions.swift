import ArgumentParser
import Psync

/// The engine settings `psync simulate` and `psync node` share: recovery (Section 3.2) and
/// memory management (Section 3.3).
struct EngineOptions: ParsableArguments {
    @Option(help: "How lost messages are recovered: 'gaps' (the default: exact requests per gap, backoff, tail recovery) or 'paper' (Section 3.2 literally).")
    var recovery: RecoveryPolicy = .gaps
    @Flag(name: .customLong("keep-payloads"), help: "Keep every message's buffer (by default a buffer is freed once every host holds the message and it was received, Section 3.3).")
    var keepPayloads = false
    @Option(name: .customLong("retain"), help: "Section 3.3's threshold Θ: only the last N messages stay queryable; older graph nodes are reclaimed once stable.")
    var retain: Int?
    @Option(name: .customLong("buffer-limit"), help: "Section 3.3 flow control: messages per conversation not yet stable; sends block at this host's share, arrivals past it are discarded and recovered.")
    var bufferLimit: Int?

    func validate() throws {
        if let retain, retain < 1 { throw ValidationError("--retain must be at least 1") }
        if let bufferLimit, bufferLimit < 1 { throw ValidationError("--buffer-limit must be at least 1") }
    }

    var host: HostConfig {
        var config = HostConfig(recovery: recovery)
        config.reclaimsPayloads = !keepPayloads
        config.retainedNodes = retain
        config.bufferLimit = bufferLimit
        return config
    }
}

extension RecoveryPolicy: ExpressibleByArgument {}
