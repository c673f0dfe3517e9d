import SnaplabCore
import Testing

@Suite struct ResourceIDTests {
    @Test func generatedIdsValidateAndDiffer() throws {
        let ids = (0..<50).map { _ in ResourceID.generate(.volume) }
        for id in ids {
            #expect(id.hasPrefix("vol-") && id.count == 21)
            try ResourceID.validate(id, as: .volume)
        }
        #expect(Set(ids).count == ids.count)
    }

    @Test(arguments: [
        "vol-../../etc/passwd", "vol-0123", "i-0123456789abcdef0", "vol-0123456789ABCDEF0",
        "vol-0123456789abcdefg", "",
    ])
    func malformedVolumeIdsAreRefused(_ id: String) {
        #expect {
            try ResourceID.validate(id, as: .volume)
        } throws: { error in
            (error as? SnaplabError)?.code == .invalidArgument
        }
    }
}
