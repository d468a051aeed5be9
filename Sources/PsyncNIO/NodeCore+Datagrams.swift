import NIOCore
import Psync
import PsyncAuth
import PsyncTrace

/// The socket side of a node: packets out through fault injection, datagrams in through the
/// address check. Every packet is traced like the simulator traces it (`packet_out`,
/// `packet_in`, drops with their reasons), so real and simulated traces read alike.
extension NodeCore {
    func transmit(_ packet: Packet, to destinations: [HostID], now time: UInt64) {
        let bytes = authenticator.wireBytes(packet, limits: host.config.wireLimits)
        let datagrams = blastSender.fragments(of: bytes, now: time)
        for to in destinations {
            guard let address = addresses[to] else {
                record(.drop(DropRecord(reason: "no-address", conversation: packet.conversation, from: host.id, to: to,
                                        detail: "no endpoint is listed for \(to)")), at: time)
                continue
            }
            record(.packetOut(PacketRecord(packet, peer: to, bytes: bytes.count)), at: time)
            for (k, datagram) in datagrams.enumerated() {
                send(datagram, to: address) { [self] in
                    let detail = datagrams.count == 1 ? "injected" : "injected, blast fragment \(k + 1)/\(datagrams.count)"
                    record(.drop(DropRecord(reason: DropReason.loss.rawValue, conversation: packet.conversation,
                                            message: PacketRecord(packet, peer: to, bytes: 0).message, from: host.id, to: to,
                                            detail: detail)), at: time)
                }
            }
        }
    }

    /// Sends one datagram through fault injection: lost (`lost` is called), or one or two
    /// copies, at once or after the injected delay.
    func send(_ bytes: [UInt8], to address: SocketAddress, lost: () -> Void) {
        let delays = faults.fate()
        if delays.isEmpty {
            counters.injectedLosses += 1
            return lost()
        }
        counters.injectedDuplicates += delays.count - 1
        for delay in delays {
            if delay == 0 {
                write(bytes, to: address)
            } else {
                let bound = self.bound!
                eventLoop.scheduleTask(in: .nanoseconds(Int64(clamping: delay))) {
                    bound.value.write(bytes, to: address)
                    bound.value.flushWrites()
                }
            }
        }
    }

    func write(_ bytes: [UInt8], to address: SocketAddress) {
        guard let channel, !isShutDown else { return }
        counters.datagramsSent += 1
        counters.bytesSent += bytes.count
        let envelope = AddressedEnvelope(remoteAddress: address, data: channel.allocator.buffer(bytes: bytes))
        let bound = self.bound!
        channel.write(envelope).whenFailure { error in bound.value.sendFailed(error, to: address) }
        writesPending = true
    }

    func flushWrites() {
        guard writesPending, let channel else { return }
        writesPending = false
        channel.flush()
    }

    func sendFailed(_ error: Error, to address: SocketAddress) {
        counters.sendErrors += 1
        record(.drop(DropRecord(reason: "send-error", from: host.id, to: hostsByAddress[address],
                                detail: "\(address): \(error)")))
    }

    /// One datagram off the socket. From an address no host is listed at: dropped and traced
    /// here (the engine never sees it). Otherwise decoded once for the trace and handed to the
    /// engine; bytes that do not decode go to the engine raw, which drops them as malformed.
    func received(_ bytes: [UInt8], from address: SocketAddress) {
        guard !isShutDown else { return }
        let time = now
        counters.datagramsReceived += 1
        counters.bytesReceived += bytes.count
        guard let from = hostsByAddress[address] else {
            counters.unknownSourceDrops += 1
            return record(.drop(DropRecord(reason: DropReason.nonParticipant.rawValue, to: host.id,
                                           detail: "\(bytes.count)-byte datagram from \(address), which is no listed host")), at: time)
        }
        switch blastReceiver.receive(bytes, from: from, now: time) {
        case .passthrough:
            deliverToEngine(bytes, from: from, now: time)
        case .complete(let packet):
            deliverToEngine(packet, from: from, now: time)
        case .incomplete:
            armBlastTimer()
        case .nack(let nack):
            for answer in blastSender.answer(nack, now: time) {
                send(answer, to: address) {}
            }
            flushWrites()
        case .dropped(let why):
            record(.drop(DropRecord(reason: DropReason.malformed.rawValue, from: from, to: host.id, detail: "blast: \(why)")), at: time)
        }
    }

    /// Keeps one task scheduled at the blast receiver's next deadline (its NACKs).
    func armBlastTimer() {
        guard let deadline = blastReceiver.nextDeadline, blastTimer?.deadline != deadline else { return }
        blastTimer?.task.cancel()
        let bound = self.bound!
        let task = eventLoop.scheduleTask(in: delay(until: deadline)) {
            bound.value.blastTimerFired()
        }
        blastTimer = (deadline, task)
    }

    func blastTimerFired() {
        guard !isShutDown else { return }
        blastTimer = nil
        let result = blastReceiver.timerFired(now: now)
        for nack in result.nacks {
            if let address = addresses[nack.destination] { send(nack.datagram, to: address) {} }
        }
        for gone in result.abandoned {
            record(.drop(DropRecord(reason: "blast-abandoned", from: gone.source, to: host.id,
                                    detail: "blast \(gone.blastID): \(gone.missingFragments) of \(gone.fragmentCount) fragments never came")))
        }
        flushWrites()
        armBlastTimer()
    }

    func deliverToEngine(_ sealed: [UInt8], from: HostID, now time: UInt64) {
        let bytes: [UInt8]
        switch authenticator.packetBytes(sealed) {
        case .success(let packet):
            bytes = packet
        case .failure(let why):
            counters.unauthenticatedDrops += 1
            return record(.drop(DropRecord(reason: DropReason.unauthenticated.rawValue,
                                           conversation: try? WireCodec.conversation(of: sealed), from: from, to: host.id,
                                           detail: why.description)), at: time)
        }
        let input: HostInput
        if let packet = try? WireCodec.decode(bytes, limits: host.config.wireLimits) {
            record(.packetIn(PacketRecord(packet, peer: from, bytes: bytes.count)), at: time)
            input = .packet(packet, from: from)
        } else {
            input = .datagram(bytes, from: from)
        }
        apply(host.handle(input, now: Instant(nanoseconds: time)))
    }
}
