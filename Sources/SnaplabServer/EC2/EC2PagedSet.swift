import Hummingbird
import Logging
import NIOCore
import SnaplabCore

/// What an EC2 action answers: its elements, or one set long enough to be read and sent page by page.
enum EC2Result: Sendable {
    case elements([XMLElement])
    /// `<name><item>…</item>…</name>`, its items read by `fetch` from the page after a token.
    case pagedSet(name: String, fetch: EC2PagedSet.Fetch)
}

/// An EC2 answer's bytes: whole, or a writer that produces them as it reads.
enum EC2Body: Sendable {
    case whole(ByteBuffer)
    case streamed(@Sendable (inout any ResponseBodyWriter) async throws -> Void)
}

/// A set written as it is read from the catalog: each page's items are rendered into one buffer and sent
/// before the next page is read, so memory stays at one page however long the listing.
struct EC2PagedSet: Sendable {
    typealias Fetch = @Sendable (PageToken?) async throws(SnaplabError) -> (items: [[XMLElement]], next: PageToken?)
    static let logger = Logger(label: "snaplab.ec2")

    let name: String
    let action: String
    let fetch: Fetch

    func stream(_ head: ByteBuffer, _ first: (items: [[XMLElement]], next: PageToken?))
        -> @Sendable (inout any ResponseBodyWriter) async throws -> Void
    {
        { writer in
            var buffer = head
            var page = first
            while true {
                for item in page.items { XMLElement("item", item).render(into: &buffer) }
                guard let next = page.next else { break }
                try await writer.write(buffer)
                buffer.clear()
                do throws(SnaplabError) {
                    page = try await fetch(next)
                } catch {
                    // The status is sent: all that is left is to stop, leaving XML the client will reject.
                    Self.logger.error("\(action) stopped after a page: \(error.message)")
                    throw error
                }
            }
            XMLElement.close(name, into: &buffer)
            XMLElement.close("\(action)Response", into: &buffer)
            try await writer.write(buffer)
            try await writer.finish(nil)
        }
    }
}
