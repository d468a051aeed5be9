/// A growable FIFO queue with O(1) amortized push and pop, used for each view's queue of
/// receivable messages. (The engine depends on nothing beyond the standard library.)
struct RingBuffer<Element> {
    private var storage: [Element?] = []
    private var head = 0
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }

    mutating func push(_ element: Element) {
        if count == storage.count { grow() }
        storage[(head + count) % storage.count] = element
        count += 1
    }

    mutating func pop() -> Element? {
        guard count > 0 else { return nil }
        let element = storage[head]
        storage[head] = nil
        head = (head + 1) % storage.count
        count -= 1
        return element
    }

    var first: Element? { count > 0 ? storage[head] : nil }

    private mutating func grow() {
        var next: [Element?] = Array(repeating: nil, count: max(16, storage.count * 2))
        for i in 0..<count { next[i] = storage[(head + i) % storage.count] }
        storage = next
        head = 0
    }
}
