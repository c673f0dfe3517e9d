import SnaplabCore
import Testing

@Suite struct ByteSizeTests {
    static let cases: [(String, UInt64)] = [
        ("512", 512), ("64K", 65_536), ("256M", 268_435_456), ("256MiB", 268_435_456), ("1G", 1_073_741_824),
        ("1.5G", 1_610_612_736), ("2T", 2_199_023_255_552), ("10 mb", 10_485_760),
    ]

    @Test(arguments: cases)
    func parses(_ text: String, _ bytes: UInt64) throws {
        #expect(try ByteSize.parse(text) == bytes)
    }

    @Test(arguments: ["12XB", "", "G", "-1G", "0", "1.2.3M", "1e9"])
    func refusesWithAnInvalidArgument(_ text: String) {
        #expect {
            _ = try ByteSize.parse(text)
        } throws: { error in
            (error as? SnaplabError)?.code == .invalidArgument
                && (error as? SnaplabError)?.message.contains("256M") == true
        }
    }

    @Test func formats() {
        #expect(ByteSize.format(256 << 20) == "256 MiB")
        #expect(ByteSize.format(3 << 29) == "1.5 GiB")
        #expect(ByteSize.format(100) == "100 B")
    }
}
