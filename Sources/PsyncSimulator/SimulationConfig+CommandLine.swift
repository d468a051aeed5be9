import Psync

/// The `psync simulate` arguments that reproduce a configuration, printed with every failing
/// simulation (DESIGN.md: "every failure prints the seed and the command that reproduces it").
extension SimulationConfig {
    /// nil when the configuration uses something the command line cannot express (drop rules,
    /// per-link overrides, engine timers other than the defaults).
    public var commandLineArguments: [String]? {
        guard faults.drops.isEmpty, network.overrides.isEmpty, let engine = host.engineArguments,
              timeLimitNanoseconds == SimulationConfig().timeLimitNanoseconds
        else { return nil }
        let w = workload, l = network.link
        var args = ["--seed", "\(seed)", "--participants", "\(participants)",
                    "--messages", "\(w.messagesPerParticipant)", "--interval", formatDuration(w.meanIntervalNanoseconds),
                    "--reply", "\(w.replyProbability)", "--payload", "\(w.payloadBytes)",
                    "--delay", l.delay.description, "--loss", "\(l.lossProbability)",
                    "--duplicate", "\(l.duplicateProbability)", "--reorder", "\(l.reorderProbability)",
                    "--reorder-delay", formatDuration(l.reorderDelayMaxNanoseconds),
                    "--settle-timeout", formatDuration(w.settleTimeoutNanoseconds),
                    "--settle-attempts", "\(w.settleAttempts)"]
        args += engine
        if !w.acknowledges { args.append("--no-acks") }
        if let pattern = w.pattern { args.append("--\(pattern.rawValue)") }
        if w.betaFraction > 0 { args += ["--beta", "\(w.betaFraction)"] }
        if !recordsHistory { args.append("--no-check") }
        if !filters.isEmpty { args += ["--filter", filters.joined(separator: ",")] }
        for p in faults.partitions {
            args += ["--partition", "\(p.side.map(String.init).joined(separator: ","))@\(formatDuration(p.startNanoseconds))-\(formatDuration(p.healNanoseconds))"]
        }
        for c in faults.crashes { args += ["--crash", "\(c.host)@\(formatDuration(c.atNanoseconds))"] }
        for r in faults.restarts { args += ["--restart", r.argument] }
        for a in faults.attacks { args += ["--attack", a.argument] }
        if authenticated == true { args.append("--authenticate") }
        return args
    }

    /// The shell command that reruns this configuration with the command-line tool `tool` (an
    /// outside package's own `psync`-like tool reproduces the runs of its registered filters),
    /// or a note saying why there is none.
    public func reproductionCommand(tool: String = "psync") -> String {
        guard let args = commandLineArguments else {
            return "(seed \(seed); this configuration uses options only the library API sets)"
        }
        return "swift run -c release \(tool) simulate " + args.joined(separator: " ")
    }
}

extension HostConfig {
    /// (Shared by `psync simulate` and `psync node`.)
    /// The command-line arguments that set this configuration's `EngineOptions`, or nil if it
    /// changes something the command line cannot (timers, attempts, bounds).
    public var engineArguments: [String]? {
        var expressible = HostConfig(recovery: recovery)
        expressible.reclaimsPayloads = reclaimsPayloads
        expressible.retainedNodes = retainedNodes
        expressible.bufferLimit = bufferLimit
        guard self == expressible else { return nil }
        var args: [String] = []
        if recovery != HostConfig().recovery { args += ["--recovery", recovery.rawValue] }
        if !reclaimsPayloads { args.append("--keep-payloads") }
        if let retainedNodes { args += ["--retain", "\(retainedNodes)"] }
        if let bufferLimit { args += ["--buffer-limit", "\(bufferLimit)"] }
        return args
    }
}

extension Partition {
    /// Parses `0,1@100ms-300ms`: hosts 0 and 1 are cut off from the rest from 100 ms to 300 ms.
    public init(parsing text: String) throws(ArgumentSyntaxError) {
        let halves = text.split(separator: "@").map(String.init)
        guard halves.count == 2 else { throw ArgumentSyntaxError(text, "a partition is HOSTS@START-HEAL (0,1@100ms-300ms)") }
        var side: [UInt32] = []
        for h in halves[0].split(separator: ",", omittingEmptySubsequences: false) {
            guard let host = UInt32(h) else { throw ArgumentSyntaxError(text, "'\(h)' is not a host number") }
            side.append(host)
        }
        let times = halves[1].split(separator: "-", omittingEmptySubsequences: false)
        guard times.count == 2 else { throw ArgumentSyntaxError(text, "the time is START-HEAL (100ms-300ms)") }
        let start: UInt64, heal: UInt64
        do { (start, heal) = (try duration(String(times[0])), try duration(String(times[1]))) } catch {
            throw ArgumentSyntaxError(text, error.description)
        }
        guard start <= heal else { throw ArgumentSyntaxError(text, "it heals before it starts") }
        self.init(side: side, startNanoseconds: start, healNanoseconds: heal)
    }
}

extension Crash {
    /// Parses `2@50ms`: host 2 fails silently at 50 ms.
    public init(parsing text: String) throws(ArgumentSyntaxError) {
        let halves = text.split(separator: "@").map(String.init)
        guard halves.count == 2 else { throw ArgumentSyntaxError(text, "a crash is HOST@TIME (2@50ms)") }
        guard let host = UInt32(halves[0]) else { throw ArgumentSyntaxError(text, "'\(halves[0])' is not a host number") }
        do { self.init(host: host, atNanoseconds: try duration(halves[1])) } catch { throw ArgumentSyntaxError(text, error.description) }
    }
}
