import Psync
import Testing
@testable import PsyncNIO

/// The peer list of `psync node --peers` and `--peers-file`.
@Suite struct PeerAddressBookTests {
    @Test func listsAndFilesParseAlike() throws {
        let inline = try PeerAddressBook(parsing: "0=127.0.0.1:9000,1=127.0.0.1:9001 h2=[::1]:9002")
        let file = try PeerAddressBook(parsing: """
            # hosts of the run
            0=127.0.0.1:9000
            1=127.0.0.1:9001   # the second
            2=[::1]:9002
            """)
        #expect(inline == file)
        #expect(inline.hostIDs == [HostID(0), HostID(1), HostID(2)])
        #expect(inline.endpoint(of: HostID(2)) == .init(address: "::1", port: 9002))
        #expect(inline.endpoint(of: HostID(2))?.description == "[::1]:9002")
    }

    @Test(arguments: ["0=127.0.0.1", "x=127.0.0.1:1", "0=127.0.0.1:70000", "0=:9000", "0127.0.0.1:9000", "0=[::1]9000"])
    func badEntriesAreRefused(entry: String) {
        #expect(throws: PeerAddressError.self) { try PeerAddressBook(parsing: entry) }
    }

    @Test func ambiguousBooksAreRefused() {
        #expect(throws: PeerAddressError.self) { try PeerAddressBook(parsing: "0=127.0.0.1:9000,1=127.0.0.1:9000") }
        #expect(throws: PeerAddressError.self) { try PeerAddressBook(parsing: "0=127.0.0.1:9000,0=127.0.0.1:9001") }
        #expect((try? PeerAddressBook(parsing: "0=127.0.0.1:9000,0=127.0.0.1:9000")) != nil)
    }
}
