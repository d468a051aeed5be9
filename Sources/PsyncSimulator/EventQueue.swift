/// A priority queue of timed simulation events. Ties in time are broken by insertion order, so
/// the run is a deterministic function of the seed and the configuration.
///
/// The heap orders small plain entries (time, order, slot); the events themselves (which carry
/// packets) stay put in `slots`, so sifting never copies them.
struct EventQueue<Event> {
    private struct Entry {
        var time: UInt64
        var order: UInt64
        var slot: Int
    }
    private var heap: [Entry] = []
    private var slots: [Event?] = []
    private var freeSlots: [Int] = []
    private var inserted: UInt64 = 0

    var isEmpty: Bool { heap.isEmpty }
    var count: Int { heap.count }

    mutating func push(_ event: Event, at time: UInt64) {
        let slot: Int
        if let free = freeSlots.popLast() {
            slot = free
            slots[slot] = event
        } else {
            slot = slots.count
            slots.append(event)
        }
        heap.append(Entry(time: time, order: inserted, slot: slot))
        inserted += 1
        siftUp(heap.count - 1)
    }

    mutating func pop() -> (time: UInt64, event: Event)? {
        heap.isEmpty ? nil : take(at: 0)
    }

    /// Every queued event with its time and insertion number (which names it for `remove`), in
    /// no particular order: the model checker chooses among them (`Simulator.pendingEvents`).
    var entries: [(time: UInt64, order: UInt64, event: Event)] {
        heap.map { ($0.time, $0.order, slots[$0.slot]!) }
    }

    /// Takes out the event inserted `order`-th, whatever its time. O(count).
    mutating func remove(order: UInt64) -> (time: UInt64, event: Event)? {
        heap.firstIndex { $0.order == order }.map { take(at: $0) }
    }

    private mutating func take(at i: Int) -> (time: UInt64, event: Event) {
        heap.swapAt(i, heap.count - 1)
        let entry = heap.removeLast()
        if i < heap.count {
            siftUp(i)
            siftDown(i)
        }
        let event = slots[entry.slot].take()!
        freeSlots.append(entry.slot)
        return (entry.time, event)
    }

    private mutating func siftUp(_ start: Int) {
        var i = start
        while i > 0 {
            let parent = (i - 1) / 2
            guard less(i, parent) else { break }
            heap.swapAt(i, parent)
            i = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var i = start
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < heap.count && less(l, m) { m = l }
            if r < heap.count && less(r, m) { m = r }
            if m == i { break }
            heap.swapAt(i, m)
            i = m
        }
    }

    private func less(_ a: Int, _ b: Int) -> Bool {
        (heap[a].time, heap[a].order) < (heap[b].time, heap[b].order)
    }
}
