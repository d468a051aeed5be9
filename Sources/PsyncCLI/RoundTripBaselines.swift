import NIOCore
import NIOPosix
import PsyncTrace

/// The transports Table 1 compares Psync with, on the same SwiftNIO runtime: servers that echo,
/// and clients that run their ping-pong on the event loop (as `PsyncNode.roundTrips` does), so
/// every transport pays the same runtime costs and none pays a task switch per round trip.

/// UDP echo: the datagram comes back as it is.
final class UDPEchoServer: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.writeAndFlush(data, promise: nil)
    }
}

/// RPC over UDP, at most once: a request is an 8-byte id and its argument; the server executes
/// each id once (a repeated id gets the cached reply), the client retransmits on a timer.
final class RPCServer: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>
    var executed: [SocketAddress: (id: UInt64, reply: ByteBuffer)] = [:]

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let request = unwrapInboundIn(data)
        guard let id = request.data.getInteger(at: request.data.readerIndex, as: UInt64.self) else { return }
        if let last = executed[request.remoteAddress], last.id >= id {
            if last.id == id { context.writeAndFlush(wrapOutboundOut(.init(remoteAddress: request.remoteAddress, data: last.reply)), promise: nil) }
            return
        }
        var reply = context.channel.allocator.buffer(capacity: 9)
        reply.writeInteger(id)
        reply.writeInteger(UInt8(2))
        executed[request.remoteAddress] = (id, reply)
        context.writeAndFlush(wrapOutboundOut(.init(remoteAddress: request.remoteAddress, data: reply)), promise: nil)
    }
}

/// TCP echo (the connection has NODELAY set).
final class TCPEchoServer: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.writeAndFlush(data, promise: nil)
    }
}

/// A client's ping-pong on the event loop: `start` sends the first request; each reply records
/// the round trip and sends the next, until `count`; then `done` gets the nanoseconds.
final class PingPong<Message>: ChannelInboundHandler {
    typealias InboundIn = Message
    enum Kind { case udp(SocketAddress), rpc(SocketAddress), tcp }

    let kind: Kind
    var context: ChannelHandlerContext?
    var count = 0
    var latencies: [UInt64] = []
    var sentAt: UInt64 = 0
    var done: EventLoopPromise<[UInt64]>?
    var rpcID: UInt64 = 0
    var retransmission: Scheduled<Void>?
    /// RPC's retransmission timeout: far above a loopback round trip, so it fires only on loss.
    static var rpcTimeout: TimeAmount { .milliseconds(50) }

    init(_ kind: Kind) { self.kind = kind }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    /// Runs `count` round trips (call on the channel's loop).
    func run(_ count: Int) -> EventLoopFuture<[UInt64]> {
        let promise = context!.eventLoop.makePromise(of: [UInt64].self)
        self.count = count
        latencies = []
        latencies.reserveCapacity(count)
        done = promise
        send()
        return promise.futureResult
    }

    func send() {
        guard let context else { return }
        sentAt = RealRun.monotonicNanoseconds()
        switch kind {
        case .udp(let server):
            context.writeAndFlush(NIOAny(AddressedEnvelope(remoteAddress: server, data: context.channel.allocator.buffer(bytes: [1]))),
                                  promise: nil)
        case .rpc:
            rpcID += 1
            sendRPC(context)
        case .tcp:
            context.writeAndFlush(NIOAny(context.channel.allocator.buffer(bytes: [1])), promise: nil)
        }
    }

    func sendRPC(_ context: ChannelHandlerContext) {
        guard case .rpc(let server) = kind else { return }
        var request = context.channel.allocator.buffer(capacity: 9)
        request.writeInteger(rpcID)
        request.writeInteger(UInt8(1))
        context.writeAndFlush(NIOAny(AddressedEnvelope(remoteAddress: server, data: request)), promise: nil)
        let id = rpcID, bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        retransmission = context.eventLoop.scheduleTask(in: Self.rpcTimeout) {
            let client = bound.value
            guard client.rpcID == id, let context = client.context else { return }
            client.sendRPC(context)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .rpc = kind {
            guard let reply = unwrapInboundIn(data) as? AddressedEnvelope<ByteBuffer>,
                  reply.data.getInteger(at: reply.data.readerIndex, as: UInt64.self) == rpcID else { return }
            retransmission?.cancel()
        }
        latencies.append(RealRun.monotonicNanoseconds() - sentAt)
        if latencies.count < count { return send() }
        done?.succeed(latencies)
        done = nil
    }
}
