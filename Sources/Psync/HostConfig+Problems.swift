/// What a host configuration must satisfy for the engine to work as Sections 3.2 and 3.3
/// describe. Configurations come from code, from the command line and from trace headers (a
/// trace is re-run from the configuration it carries), so shells check before they start a host.
extension HostConfig {
    /// Every way this configuration breaks the engine's assumptions, as sentences; empty when
    /// it is sound.
    public var problems: [String] {
        var found: [String] = []
        func atLeast(_ value: Int, _ least: Int, _ name: String) {
            if value < least { found.append("\(name) must be at least \(least) (it is \(value))") }
        }
        // A zero timeout would re-arm a timer at the instant it fires: the shell would spin.
        for (name, value) in [("retransmitTimeoutNanoseconds", retransmitTimeoutNanoseconds),
                              ("digestQuietNanoseconds", digestQuietNanoseconds)] where value == 0 {
            found.append("\(name) must be above 0")
        }
        if retransmitTimeoutMaxNanoseconds < retransmitTimeoutNanoseconds {
            found.append("retransmitTimeoutMaxNanoseconds (\(retransmitTimeoutMaxNanoseconds)) is below retransmitTimeoutNanoseconds (\(retransmitTimeoutNanoseconds))")
        }
        atLeast(sourceRequestAttempts, 0, "sourceRequestAttempts")
        atLeast(memberRequestAttempts, 0, "memberRequestAttempts")
        // Section 3.2.3: a held message is discarded only after at least one broadcast.
        atLeast(broadcastRequestAttempts, 1, "broadcastRequestAttempts")
        atLeast(digestAttempts, 1, "digestAttempts")
        atLeast(retransmitBatchLimit, 1, "retransmitBatchLimit")
        atLeast(holdingQueueLimit, 1, "holdingQueueLimit")
        atLeast(pendingConversationLimit, 1, "pendingConversationLimit")
        atLeast(orphanPacketLimit, 0, "orphanPacketLimit")
        if let retainedNodes { atLeast(retainedNodes, 1, "retainedNodes") }
        if let bufferLimit { atLeast(bufferLimit, 1, "bufferLimit") }
        atLeast(wireLimits.maxParticipants, 1, "wireLimits.maxParticipants")
        atLeast(wireLimits.maxPayloadBytes, 1, "wireLimits.maxPayloadBytes")
        return found
    }
}
