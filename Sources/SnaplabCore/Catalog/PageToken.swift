import Foundation

/// Where a page of a listing ends: the last item's creation time (as the catalog stores it) and id. Clients
/// see it as an opaque string.
public struct PageToken: Sendable, Equatable {
    public var createdAt: String
    public var id: String

    public init(createdAt: String, id: String) {
        self.createdAt = createdAt
        self.id = id
    }

    public var text: String {
        Data("\(createdAt)|\(id)".utf8).base64EncodedString()
    }

    /// A token this lab gave, or an error saying to start over.
    public init(text: String) throws(SnaplabError) {
        let invalid = SnaplabError(
            .invalidArgument, "the page token '\(text.prefix(80))' is not one this lab gave; list again without it")
        guard text.utf8.count <= 200, let data = Data(base64Encoded: text),
            let decoded = String(data: data, encoding: .utf8), let bar = decoded.lastIndex(of: "|")
        else { throw invalid }
        let createdAt = String(decoded[..<bar])
        let id = String(decoded[decoded.index(after: bar)...])
        guard !createdAt.isEmpty, createdAt.count <= 40,
            createdAt.allSatisfy({ $0.isNumber || "-:. T".contains($0) }),
            !id.isEmpty, id.count <= 64, id.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" })
        else { throw invalid }
        self.init(createdAt: createdAt, id: id)
    }
}

/// One page of a listing and the token for the next (nil on the last page).
public struct CatalogPage<Item: Sendable>: Sendable {
    public var items: [Item]
    public var next: PageToken?

    public init(items: [Item], next: PageToken?) {
        self.items = items
        self.next = next
    }
}
