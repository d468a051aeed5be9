// Tests of the blast layer (BlastCodec, BlastSender, BlastReceiver): passthrough of small packets,
// 1 MiB round trips, recovery through NACK rounds over a seeded lossy link, reordering and
// duplication, every bound, and malformed input.
//
// Every random test uses a fixed SplitMix64 seed, so a failure reproduces exactly; loops count their
// failures and report the first few instead of calling `#expect` once per iteration.

import Testing
import Psync
@testable import PsyncNIO

// MARK: - Helpers

private let alice = HostID(1)
private let bob = HostID(2)

private func randomBytes(_ count: Int, _ rng: inout SplitMix64) -> [UInt8] {
    (0..<count).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
}

/// A configuration with tiny bounds, so that every bound is easy to cross.
private let tiny = BlastConfig(
    fragmentBytes: 64, maxDatagramBytes: 1024, maxFragmentCount: 16, retentionNanoseconds: 1000,
    maxRetainedBlasts: 3, maxRetainedBytes: 2048, nackDelayNanoseconds: 10, maxNacks: 3,
    maxReassemblies: 2, maxReassemblyBytes: 1500, rememberedFinishedBlasts: 4)

private func decoded(_ bytes: [UInt8], _ config: BlastConfig = BlastConfig()) -> BlastCodec.Datagram? {
    try? BlastCodec.decode(bytes, limits: config.limits)
}

private func fragmentIndex(_ bytes: [UInt8], _ config: BlastConfig = BlastConfig()) -> Int? {
    guard case .fragment(let f)? = decoded(bytes, config) else { return nil }
    return f.index
}

private func nackOf(_ bytes: [UInt8], _ config: BlastConfig = BlastConfig()) -> BlastCodec.Nack? {
    guard case .nack(let n)? = decoded(bytes, config) else { return nil }
    return n
}

private func isMalformed(_ outcome: BlastReceiver<HostID>.Outcome) -> Bool {
    if case .dropped(.malformed) = outcome { return true }
    return false
}

private func isTooLarge(_ outcome: BlastReceiver<HostID>.Outcome) -> Bool {
    if case .dropped(.malformed(.tooLarge)) = outcome { return true }
    return false
}

private func varint(_ value: UInt64) -> [UInt8] {
    var v = value
    var out: [UInt8] = []
    while v >= 0x80 { out.append(UInt8(truncatingIfNeeded: v) | 0x80); v >>= 7 }
    out.append(UInt8(v))
    return out
}

/// A fragment datagram built by hand (no layout check), for malformed and over-bound input.
private func rawFragment(id: UInt64, count: UInt64, index: UInt64, total: UInt64, bytes: Int) -> [UInt8] {
    [0x50, 0x42, 1, 1] + varint(id) + varint(count) + varint(index) + varint(total)
        + [UInt8](repeating: 0xAB, count: bytes)
}

/// A valid fragment of a blast of `total` bytes in `count` fragments.
private func fragment(id: UInt64, count: Int, index: Int, total: Int) -> [UInt8] {
    let length = BlastCodec.fragmentRange(index: index, count: count, totalBytes: total).count
    return BlastCodec.encode(BlastCodec.Fragment(
        blastID: id, count: count, index: index, totalBytes: total,
        bytes: ArraySlice(repeating: UInt8(truncatingIfNeeded: index), count: length)))
}

/// Collects failures in a loop; records the first few as issues with their details.
private struct FailureLog {
    var count = 0
    mutating func fail(_ message: @autoclosure () -> String, sourceLocation: SourceLocation = #_sourceLocation) {
        count += 1
        if count <= 5 { Issue.record(Comment(rawValue: message()), sourceLocation: sourceLocation) }
    }
}

// MARK: - Codec

@Test func blastMagicIsDistinctFromPsync() {
    let psync = WireCodec.encode(.retransmitRequest(RetransmitRequest(
        conversation: ConversationID(1), message: nil, leaves: [])))
    #expect(!BlastCodec.isBlast(psync))
    #expect(!BlastCodec.isBlast([UInt8]()))
    #expect(!BlastCodec.isBlast([0x50]))
    #expect(BlastCodec.isBlast([0x50, 0x42]))
    #expect(BlastCodec.isBlast(fragment(id: 1, count: 2, index: 0, total: 10)[...]))
}

@Test func fragmentRangesPartitionTheDatagram() {
    var rng = SplitMix64(seed: 11)
    var log = FailureLog()
    for _ in 0..<2000 {
        let total = Int(rng.next() % 5000) + 2
        let count = Int(rng.next() % UInt64(min(total, 300) - 1)) + 2
        let ranges = (0..<count).map { BlastCodec.fragmentRange(index: $0, count: count, totalBytes: total) }
        let sizes = ranges.map(\.count)
        let contiguous = zip(ranges, ranges.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound }
        if ranges.first!.lowerBound != 0 || ranges.last!.upperBound != total || !contiguous
            || sizes.max()! - sizes.min()! > 1 || sizes.min()! < 1 {
            log.fail("total \(total) count \(count): \(ranges)")
        }
    }
    #expect(log.count == 0)
}

@Test func codecRoundTripsFragmentsAndNacks() throws {
    let config = BlastConfig()
    let f = BlastCodec.Fragment(blastID: .max, count: 3, index: 2, totalBytes: 10, bytes: [7, 8, 9])
    #expect(try BlastCodec.decode(BlastCodec.encode(f), limits: config.limits) == .fragment(f))
    let n = BlastCodec.Nack(blastID: 300, count: 200, missing: [0, 5, 127, 128, 199])
    #expect(try BlastCodec.decode(BlastCodec.encode(n), limits: config.limits) == .nack(n))
}

// MARK: - Round trips

@Test func smallDatagramsPassThroughUnchanged() {
    let config = BlastConfig()
    var sender = BlastSender(config: config, firstBlastID: 1)
    var receiver = BlastReceiver<HostID>(config: config)
    let psync = WireCodec.encode(.addNode(AddNode(
        conversation: ConversationID(3), message: MessageID(sender: 0, sequence: 1),
        sender: ParticipantID(host: alice), predecessors: [], payload: [1, 2, 3])))
    #expect(sender.fragments(of: psync, now: 0) == [psync])
    #expect(receiver.receive(psync, from: alice, now: 0) == .passthrough)

    var rng = SplitMix64(seed: 1)
    let exactlyOneFragment = [0x50, 0x53] + randomBytes(config.fragmentBytes - 2, &rng)
    #expect(sender.fragments(of: exactlyOneFragment, now: 0) == [exactlyOneFragment])
    #expect(sender.retainedBlastCount == 0)
    let oneByteMore = exactlyOneFragment + [0]
    #expect(sender.fragments(of: oneByteMore, now: 0).count == 2)
    #expect(sender.retainedBlastCount == 1)
}

@Test func oneMebibyteRoundTrip() {
    let config = BlastConfig()
    var rng = SplitMix64(seed: 2)
    // Ids near the top of the range: the longest varints, and the next id wraps to 0.
    var sender = BlastSender(config: config, firstBlastID: .max)
    var receiver = BlastReceiver<HostID>(config: config)
    for size in [1 << 20, config.maxDatagramBytes] {
        let datagram = randomBytes(size, &rng)
        let fragments = sender.fragments(of: datagram, now: 0)
        #expect(fragments.count == (size + config.fragmentBytes - 1) / config.fragmentBytes)
        #expect(fragments.allSatisfy { $0.count <= config.fragmentBytes + 21 })
        var outcomes: [BlastReceiver<HostID>.Outcome] = []
        for f in fragments { outcomes.append(receiver.receive(f, from: alice, now: 1)) }
        #expect(outcomes.dropLast().allSatisfy { $0 == .incomplete })
        #expect(outcomes.last == .complete(datagram))
        #expect(receiver.reassemblyCount == 0 && receiver.reservedBytes == 0)
        #expect(receiver.nextDeadline == nil)
    }
    #expect(sender.retainedBlastCount == 2)
}

@Test func reorderedAndDuplicatedFragments() {
    let config = BlastConfig()
    var rng = SplitMix64(seed: 3)
    var sender = BlastSender(config: config, firstBlastID: 1)
    var receiver = BlastReceiver<HostID>(config: config)
    let datagram = randomBytes(300_000, &rng)
    let fragments = sender.fragments(of: datagram, now: 0)
    var arrivals = fragments.shuffled(using: &rng)
    let extra = 25
    for _ in 0..<extra {
        let copy = fragments[Int(rng.next() % UInt64(fragments.count))]
        arrivals.insert(copy, at: Int(rng.next() % UInt64(arrivals.count + 1)))
    }
    var complete = 0, incomplete = 0, duplicate = 0, late = 0, other = 0
    for a in arrivals {
        switch receiver.receive(a, from: alice, now: 0) {
        case .complete(let bytes): complete += 1; #expect(bytes == datagram)
        case .incomplete: incomplete += 1
        case .dropped(.duplicate): duplicate += 1
        case .dropped(.late): late += 1
        default: other += 1
        }
    }
    #expect(complete == 1 && incomplete == fragments.count - 1 && other == 0)
    #expect(duplicate + late == extra)
    #expect(receiver.nextDeadline == nil)
}

// MARK: - Recovery over a lossy link

/// The figures of one blast of 1 MiB from alice to bob over a link that loses a fraction of every
/// datagram (fragments, NACKs and answers), driven by bob's timer until bob has the whole datagram.
private struct LossyRun {
    var completed = false
    var abandoned = 0
    var initiallyMissing = 0
    var rounds = 0          // timer expiries that sent a NACK
    var nacksSent = 0
    var nacksLost = 0
    var requested = 0       // fragments named by the NACKs that reached alice
    var retransmitted = 0   // fragments alice sent in answer
    var answersNotMissing = 0
    var duplicateArrivals = 0
}

private func runLossy(loss: Double, seed: UInt64) -> LossyRun {
    let config = BlastConfig()
    var rng = SplitMix64(seed: seed)
    var link = rng.split()
    var sender = BlastSender(config: config, firstBlastID: seed)
    var senderSide = BlastReceiver<HostID>(config: config)  // decodes the NACKs reaching alice
    var receiver = BlastReceiver<HostID>(config: config)
    let datagram = randomBytes(1 << 20, &rng)
    var run = LossyRun()
    var held = Set<Int>()
    var now: UInt64 = 0

    func deliver(_ bytes: [UInt8]) {
        guard link.nextUnit() >= loss else { return }
        switch receiver.receive(bytes, from: alice, now: now) {
        case .incomplete: held.insert(fragmentIndex(bytes)!)
        case .complete(let b): run.completed = b == datagram
        case .dropped(.duplicate): run.duplicateArrivals += 1
        default: Issue.record("seed \(seed): unexpected outcome for a fragment")
        }
    }

    let fragments = sender.fragments(of: datagram, now: now)
    for f in fragments { deliver(f) }
    run.initiallyMissing = run.completed ? 0 : fragments.count - held.count
    while !run.completed, let deadline = receiver.nextDeadline {
        now = deadline
        let fired = receiver.timerFired(now: now)
        run.abandoned += fired.abandoned.count
        if !fired.nacks.isEmpty { run.rounds += 1 }
        for out in fired.nacks {
            run.nacksSent += 1
            let listed = Set(nackOf(out.datagram)!.missing)
            if listed != Set(0..<fragments.count).subtracting(held) {
                Issue.record("seed \(seed): NACK lists \(listed.sorted()) but bob holds \(held.sorted())")
            }
            guard link.nextUnit() >= loss else { run.nacksLost += 1; continue }
            guard case .nack(let nack) = senderSide.receive(out.datagram, from: bob, now: now) else {
                Issue.record("seed \(seed): a NACK was not recognised"); continue
            }
            let answers = sender.answer(nack, now: now)
            run.requested += nack.missing.count
            run.retransmitted += answers.count
            run.answersNotMissing += answers.filter { held.contains(fragmentIndex($0)!) }.count
            for a in answers { deliver(a) }
        }
    }
    return run
}

@Test(arguments: [0.10, 0.30])
func lossyLinkRecoversResendingOnlyMissingFragments(loss: Double) {
    let seeds: [UInt64] = Array(1...20)
    var total = LossyRun()
    var maxRounds = 0
    for seed in seeds {
        let run = runLossy(loss: loss, seed: seed)
        #expect(run.completed && run.abandoned == 0, "seed \(seed): the datagram was not reassembled")
        #expect(run.initiallyMissing > 0, "seed \(seed): no fragment was lost")
        // Every NACK listed exactly bob's missing fragments (checked in the run), and alice answered
        // exactly the fragments named by the NACKs that reached her: none was already at bob.
        #expect(run.retransmitted == run.requested, "seed \(seed)")
        #expect(run.answersNotMissing == 0 && run.duplicateArrivals == 0, "seed \(seed)")
        total.initiallyMissing += run.initiallyMissing
        total.retransmitted += run.retransmitted
        total.nacksSent += run.nacksSent
        total.nacksLost += run.nacksLost
        total.rounds += run.rounds
        maxRounds = max(maxRounds, run.rounds)
    }
    print("blast at \(Int(loss * 100))% loss, \(seeds.count) seeds x 128 fragments: "
          + "\(total.initiallyMissing) missing after the blast, \(total.retransmitted) retransmitted "
          + "(all named by a delivered NACK), \(total.nacksSent) NACKs (\(total.nacksLost) lost), "
          + "NACK rounds mean \(Double(total.rounds) / Double(seeds.count)), max \(maxRounds)")
}

@Test func oneBlastServesSeveralDestinations() {
    let config = BlastConfig()
    var rng = SplitMix64(seed: 4)
    var sender = BlastSender(config: config, firstBlastID: 1)
    let datagram = randomBytes(200_000, &rng)
    let fragments = sender.fragments(of: datagram, now: 0)
    var done = 0
    for host in 2...4 {
        var receiver = BlastReceiver<HostID>(config: config)
        var complete: [UInt8]?
        var now: UInt64 = 0
        for f in fragments where rng.nextUnit() >= 0.2 {
            if case .complete(let b) = receiver.receive(f, from: alice, now: now) { complete = b }
        }
        while complete == nil, let deadline = receiver.nextDeadline {
            now = deadline
            for out in receiver.timerFired(now: now).nacks {
                for a in sender.answer(nackOf(out.datagram)!, now: now) {
                    if case .complete(let b) = receiver.receive(a, from: alice, now: now) { complete = b }
                }
            }
        }
        #expect(complete == datagram, "destination h\(host)")
        if complete == datagram { done += 1 }
    }
    #expect(done == 3 && sender.retainedBlastCount == 1)
}

// MARK: - Bounds

@Test func maxReassembliesRefusesNewBlasts() {
    var receiver = BlastReceiver<HostID>(config: tiny)
    #expect(receiver.receive(fragment(id: 1, count: 4, index: 0, total: 200), from: alice, now: 0) == .incomplete)
    #expect(receiver.receive(fragment(id: 2, count: 4, index: 0, total: 200), from: alice, now: 0) == .incomplete)
    #expect(receiver.receive(fragment(id: 3, count: 4, index: 0, total: 200), from: alice, now: 0) == .dropped(.noRoom))
    // The same id from another source is another blast, refused as well.
    #expect(receiver.receive(fragment(id: 1, count: 4, index: 0, total: 200), from: bob, now: 0) == .dropped(.noRoom))
    #expect(receiver.reassemblyCount == 2)
    for index in 1..<3 { _ = receiver.receive(fragment(id: 1, count: 4, index: index, total: 200), from: alice, now: 0) }
    guard case .complete = receiver.receive(fragment(id: 1, count: 4, index: 3, total: 200), from: alice, now: 0) else {
        Issue.record("blast 1 did not complete"); return
    }
    // Room again: a later fragment of the refused blast starts its reassembly.
    #expect(receiver.receive(fragment(id: 3, count: 4, index: 1, total: 200), from: alice, now: 0) == .incomplete)
    #expect(receiver.reassemblyCount == 2)
}

@Test func maxReassemblyBytesRefusesNewBlasts() {
    var config = tiny
    config.maxReassemblies = 10
    var receiver = BlastReceiver<HostID>(config: config)
    #expect(receiver.receive(fragment(id: 1, count: 16, index: 0, total: 1000), from: alice, now: 0) == .incomplete)
    #expect(receiver.reservedBytes == 1000)
    #expect(receiver.receive(fragment(id: 2, count: 10, index: 0, total: 600), from: alice, now: 0) == .dropped(.noRoom))
    #expect(receiver.receive(fragment(id: 3, count: 8, index: 0, total: 500), from: alice, now: 0) == .incomplete)
    #expect(receiver.reservedBytes == 1500)
    #expect(receiver.receive(fragment(id: 4, count: 2, index: 0, total: 2), from: alice, now: 0) == .dropped(.noRoom))
}

@Test func maxNacksGivesUpAndProgressResetsTheCount() {
    var receiver = BlastReceiver<HostID>(config: tiny)
    #expect(receiver.receive(fragment(id: 9, count: 4, index: 0, total: 200), from: alice, now: 100) == .incomplete)
    #expect(receiver.nextDeadline == 110)
    #expect(receiver.timerFired(now: 109) == BlastReceiver<HostID>.TimerResult())
    // Two unanswered NACKs, then progress: the count starts again.
    for t: UInt64 in [110, 120] {
        let fired = receiver.timerFired(now: t)
        #expect(fired.nacks.map(\.destination) == [alice] && fired.abandoned.isEmpty)
        #expect(nackOf(fired.nacks[0].datagram, tiny)?.missing == [1, 2, 3])
    }
    #expect(receiver.receive(fragment(id: 9, count: 4, index: 2, total: 200), from: alice, now: 125) == .incomplete)
    var nacks: [[Int]] = []
    var abandoned: [BlastReceiver<HostID>.Abandoned] = []
    var now: UInt64 = 125
    while let deadline = receiver.nextDeadline {
        #expect(deadline == now + 10)
        now = deadline
        let fired = receiver.timerFired(now: now)
        nacks += fired.nacks.map { nackOf($0.datagram, tiny)!.missing }
        abandoned += fired.abandoned
    }
    #expect(nacks == [[1, 3], [1, 3], [1, 3]])
    #expect(abandoned == [BlastReceiver<HostID>.Abandoned(source: alice, blastID: 9, missingFragments: 2, fragmentCount: 4)])
    #expect(receiver.reassemblyCount == 0 && receiver.reservedBytes == 0)
    #expect(receiver.receive(fragment(id: 9, count: 4, index: 1, total: 200), from: alice, now: now) == .dropped(.late))
}

@Test func rememberedFinishedBlastsIsBounded() {
    var receiver = BlastReceiver<HostID>(config: tiny)
    for id: UInt64 in 1...5 {
        _ = receiver.receive(fragment(id: id, count: 2, index: 0, total: 100), from: alice, now: 0)
        guard case .complete = receiver.receive(fragment(id: id, count: 2, index: 1, total: 100), from: alice, now: 0) else {
            Issue.record("blast \(id) did not complete"); return
        }
    }
    // Four are remembered: blast 1 is forgotten, so its late fragment starts a new reassembly.
    #expect(receiver.receive(fragment(id: 2, count: 2, index: 0, total: 100), from: alice, now: 0) == .dropped(.late))
    #expect(receiver.receive(fragment(id: 1, count: 2, index: 0, total: 100), from: alice, now: 0) == .incomplete)
}

@Test func retentionEvictsByAgeCountAndBytes() {
    var rng = SplitMix64(seed: 5)
    // Age.
    var sender = BlastSender(config: tiny, firstBlastID: 1)
    let fragments = sender.fragments(of: randomBytes(200, &rng), now: 500)
    let nack = BlastCodec.Nack(blastID: 1, count: fragments.count, missing: [1, 3])
    #expect(sender.answer(nack, now: 1499) == [fragments[1], fragments[3]])
    #expect(sender.answer(nack, now: 1500) == [])
    #expect(sender.retainedBlastCount == 0 && sender.retainedBytes == 0)

    // Count: the fourth blast evicts the first.
    sender = BlastSender(config: tiny, firstBlastID: 10)
    for _ in 0..<4 { _ = sender.fragments(of: randomBytes(100, &rng), now: 0) }
    #expect(sender.retainedBlastCount == 3)
    #expect(sender.answer(BlastCodec.Nack(blastID: 10, count: 2, missing: [0]), now: 0) == [])
    #expect(sender.answer(BlastCodec.Nack(blastID: 11, count: 2, missing: [0]), now: 0).count == 1)

    // Bytes: two blasts of 1000 bytes fill 2048 bytes, the third evicts the first.
    sender = BlastSender(config: tiny, firstBlastID: 20)
    for _ in 0..<3 { _ = sender.fragments(of: randomBytes(1000, &rng), now: 0) }
    #expect(sender.retainedBlastCount == 2 && sender.retainedBytes == 2000)
    #expect(sender.answer(BlastCodec.Nack(blastID: 20, count: 16, missing: [0]), now: 0) == [])
    #expect(sender.answer(BlastCodec.Nack(blastID: 22, count: 16, missing: [0, 15]), now: 0).count == 2)
}

@Test func senderIgnoresNacksItCannotAnswer() {
    var rng = SplitMix64(seed: 6)
    // Ids wrap around: the blasts are .max and 0.
    var sender = BlastSender(config: tiny, firstBlastID: .max)
    let first = sender.fragments(of: randomBytes(200, &rng), now: 0)
    let second = sender.fragments(of: randomBytes(200, &rng), now: 0)
    #expect(sender.answer(BlastCodec.Nack(blastID: .max, count: first.count, missing: [0]), now: 0) == [first[0]])
    #expect(sender.answer(BlastCodec.Nack(blastID: 0, count: second.count, missing: [2]), now: 0) == [second[2]])
    #expect(sender.answer(BlastCodec.Nack(blastID: 0, count: second.count + 1, missing: [2]), now: 0) == [])
    #expect(sender.answer(BlastCodec.Nack(blastID: 1, count: second.count, missing: [2]), now: 0) == [])
    #expect(sender.answer(BlastCodec.Nack(blastID: .max - 1, count: first.count, missing: [0]), now: 0) == [])
}

@Test func fragmentCountAndTotalLengthOverTheLimit() {
    var receiver = BlastReceiver<HostID>(config: tiny)
    #expect(receiver.receive(rawFragment(id: 1, count: 16, index: 0, total: 1024, bytes: 64), from: alice, now: 0) == .incomplete)
    #expect(isTooLarge(receiver.receive(rawFragment(id: 2, count: 17, index: 0, total: 1024, bytes: 61), from: alice, now: 0)))
    #expect(isTooLarge(receiver.receive(rawFragment(id: 3, count: 16, index: 0, total: 1025, bytes: 65), from: alice, now: 0)))
    #expect(isTooLarge(receiver.receive(rawFragment(id: 4, count: .max, index: 0, total: .max, bytes: 1), from: alice, now: 0)))
    let nack: [UInt8] = [0x50, 0x42, 1, 2] + varint(1) + varint(17) + varint(1) + varint(0)
    #expect(isTooLarge(receiver.receive(nack, from: alice, now: 0)))
}

@Test func nackListIsBoundedToOneDatagram() {
    // 86 fragments of at most 48 bytes; a NACK of at most 48 bytes names 14 of them.
    let config = BlastConfig(fragmentBytes: 48, maxDatagramBytes: 4096, maxFragmentCount: 100,
                             nackDelayNanoseconds: 10)
    var rng = SplitMix64(seed: 7)
    var sender = BlastSender(config: config, firstBlastID: 1)
    var receiver = BlastReceiver<HostID>(config: config)
    let datagram = randomBytes(4096, &rng)
    let fragments = sender.fragments(of: datagram, now: 0)
    #expect(fragments.count == 86)
    _ = receiver.receive(fragments[0], from: alice, now: 0)
    var complete: [UInt8]?
    var listed: [Int] = []
    var nackSizes: [Int] = []
    while complete == nil, let deadline = receiver.nextDeadline {
        for out in receiver.timerFired(now: deadline).nacks {
            nackSizes.append(out.datagram.count)
            let nack = nackOf(out.datagram, config)!
            listed += nack.missing
            for a in sender.answer(nack, now: deadline) {
                if case .complete(let b) = receiver.receive(a, from: alice, now: deadline) { complete = b }
            }
        }
    }
    #expect(complete == datagram)
    #expect(listed == Array(1..<86))
    #expect(nackSizes.count == 7 && nackSizes.allSatisfy { $0 <= config.fragmentBytes })
}

// MARK: - Malformed input

@Test func malformedInputIsDroppedWithTheRightError() throws {
    let limits = BlastConfig().limits
    func error(_ bytes: [UInt8]) -> BlastCodecError? {
        do { _ = try BlastCodec.decode(bytes, limits: limits); return nil } catch { return error }
    }
    let good = fragment(id: 5, count: 3, index: 1, total: 10)
    #expect(error(good) == nil)
    #expect(error([0x50, 0x42, 2, 1] + good.dropFirst(4)) == .unsupportedVersion(2))
    #expect(error([0x50, 0x42, 1, 3] + good.dropFirst(4)) == .unknownKind(3))
    #expect(error([0x50, 0x53, 1, 1] + good.dropFirst(4)) == .badMagic)
    #expect(error(good + [0]) == .trailingBytes(offset: good.count))
    #expect(error(Array(good.dropLast())) == .truncated(offset: good.count - 1))
    #expect(error([0x50, 0x42, 1, 1, 0x85, 0x00] + good.dropFirst(5)) == .invalid("non-minimal varint", offset: 4))
    #expect(error([0x50, 0x42, 1, 1] + [UInt8](repeating: 0xFF, count: 9) + [0x02]) == .invalid("varint overflows 64 bits", offset: 4))
    #expect(error(rawFragment(id: 1, count: 1, index: 0, total: 10, bytes: 10)) == .invalid("fragment count 1 below 2", offset: 5))
    #expect(error(rawFragment(id: 1, count: 3, index: 3, total: 10, bytes: 3)) == .invalid("index 3 not below count 3", offset: 6))
    #expect(error(rawFragment(id: 1, count: 3, index: 0, total: 2, bytes: 1)) == .invalid("total 2 below count 3", offset: 7))
    let nackHeader: [UInt8] = [0x50, 0x42, 1, 2, 1, 3]
    #expect(error(nackHeader + [0]) == .invalid("NACK names no fragment", offset: 6))
    #expect(error(nackHeader + [2, 1, 1]) == .invalid("NACK indices not increasing", offset: 8))
    #expect(error(nackHeader + [1, 3]) == .tooLarge("value 3 exceeds 2", offset: 7))
    #expect(error(nackHeader + [2, 0]) == .truncated(offset: 8))
}

@Test func truncatedDatagramsAreDropped() {
    var receiver = BlastReceiver<HostID>(config: BlastConfig())
    let datagrams = [fragment(id: 300, count: 3, index: 2, total: 1000),
                     BlastCodec.encode(BlastCodec.Nack(blastID: 300, count: 200, missing: [1, 150, 199]))]
    var log = FailureLog()
    for d in datagrams {
        for length in 2..<d.count where !isMalformed(receiver.receive(Array(d.prefix(length)), from: alice, now: 0)) {
            log.fail("prefix of \(length) of \(d.count) bytes was not dropped as malformed")
        }
    }
    #expect(log.count == 0 && receiver.reassemblyCount == 0)
}

@Test func inconsistentFragmentsOfOneBlastAreDropped() {
    var receiver = BlastReceiver<HostID>(config: BlastConfig())
    #expect(receiver.receive(fragment(id: 7, count: 4, index: 0, total: 200), from: alice, now: 0) == .incomplete)
    #expect(receiver.receive(fragment(id: 7, count: 4, index: 1, total: 300), from: alice, now: 0) == .dropped(.inconsistent))
    #expect(receiver.receive(fragment(id: 7, count: 5, index: 1, total: 200), from: alice, now: 0) == .dropped(.inconsistent))
    // A fragment whose byte count disagrees with its own header is malformed.
    #expect(isMalformed(receiver.receive(fragment(id: 7, count: 4, index: 1, total: 200) + [0], from: alice, now: 0)))
    #expect(receiver.receive(fragment(id: 7, count: 4, index: 1, total: 200), from: alice, now: 0) == .incomplete)
}

@Test func randomAndMutatedBlastBytesNeverCrash() {
    var rng = SplitMix64(seed: 8)
    let config = tiny
    var receiver = BlastReceiver<HostID>(config: config)
    let seeds = [fragment(id: 1, count: 4, index: 3, total: 200), fragment(id: 200, count: 16, index: 0, total: 1024),
                 BlastCodec.encode(BlastCodec.Nack(blastID: 9, count: 16, missing: [0, 7, 15]))]
    var log = FailureLog()
    var dropped = 0
    let iterations = 30_000
    for i in 0..<iterations {
        var bytes: [UInt8]
        switch i % 3 {
        case 0:  // random bytes behind the magic, sometimes with a valid version and kind
            bytes = [0x50, 0x42]
            if rng.next() % 2 == 0 { bytes += [1, UInt8(1 + rng.next() % 2)] }
            bytes += randomBytes(Int(rng.next() % 80), &rng)
        case 1:  // a valid datagram with a few bytes changed
            bytes = seeds[Int(rng.next() % 3)]
            for _ in 0..<(1 + rng.next() % 3) {
                bytes[2 + Int(rng.next() % UInt64(bytes.count - 2))] = UInt8(truncatingIfNeeded: rng.next())
            }
        default:  // a valid datagram cut or extended
            bytes = seeds[Int(rng.next() % 3)]
            bytes = rng.next() % 2 == 0 ? Array(bytes.prefix(Int(rng.next() % UInt64(bytes.count))))
                : bytes + randomBytes(1 + Int(rng.next() % 4), &rng)
        }
        let outcome = receiver.receive(bytes, from: HostID(UInt32(i % 5)), now: UInt64(i))
        if case .dropped = outcome { dropped += 1 }
        if case .passthrough = outcome, BlastCodec.isBlast(bytes) { log.fail("blast bytes passed through") }
        // Whatever decodes has exactly one encoding.
        switch decoded(bytes, config) {
        case .fragment(let f)? where BlastCodec.encode(f) != bytes: log.fail("fragment re-encodes differently")
        case .nack(let n)? where BlastCodec.encode(n) != bytes: log.fail("NACK re-encodes differently")
        default: break
        }
        if receiver.reservedBytes > config.maxReassemblyBytes || receiver.reassemblyCount > config.maxReassemblies {
            log.fail("bounds exceeded after input \(i)")
        }
        if i % 100 == 0 { _ = receiver.timerFired(now: UInt64(i)) }
    }
    #expect(log.count == 0)
    #expect(dropped > iterations * 9 / 10)
}
