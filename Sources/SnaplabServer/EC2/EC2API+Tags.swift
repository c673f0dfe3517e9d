import SnaplabCore

extension EC2API {
    func createTags(_ parameters: EC2Parameters) async throws(EC2Error) -> [XMLElement] {
        let resources = parameters.list("ResourceId")
        let tags = try parameters.tags("Tag")
        guard !resources.isEmpty, !tags.isEmpty else {
            throw EC2Error(code: "MissingParameter", message: "The request must contain ResourceId.N and Tag.N.Key")
        }
        try await call { () async throws(SnaplabError) in try await lab.tags.create(resources, tags) }
        return [XMLElement("return", "true")]
    }

    func deleteTags(_ parameters: EC2Parameters) async throws(EC2Error) -> [XMLElement] {
        let resources = parameters.list("ResourceId")
        guard !resources.isEmpty else {
            throw EC2Error(code: "MissingParameter", message: "The request must contain ResourceId.N")
        }
        var tags: [String: String?] = [:]
        for prefix in parameters.structures("Tag") {
            if let key = parameters["\(prefix).Key"] { tags[key] = parameters["\(prefix).Value"] }
        }
        if tags.isEmpty {
            // No Tag.N: every tag of the resources goes, as in EC2.
            for tag in try await call({ () async throws(SnaplabError) in try await lab.tags.all() })
            where resources.contains(tag.resourceId) && !tag.key.lowercased().hasPrefix(TagRules.reservedPrefix) {
                tags[tag.key] = .some(nil)
            }
        }
        try await call { () async throws(SnaplabError) in try await lab.tags.delete(resources, tags) }
        return [XMLElement("return", "true")]
    }

    func describeTags(_ parameters: EC2Parameters) async throws(EC2Error) -> [XMLElement] {
        var tags = try await call { () async throws(SnaplabError) in try await lab.tags.all() }
        tags = try EC2Filtering.apply(tags, parameters.filters, tags: { _ in [:] }) { tag, name in
            switch name {
            case "resource-id": [tag.resourceId]
            case "resource-type": [tag.resourceType]
            case "key": [tag.key]
            case "value": [tag.value]
            default: nil
            }
        }
        let page = try EC2Filtering.page(tags, parameters: parameters)
        return [
            XMLElement.set(
                "tagSet",
                page.items.map { tag in
                    [
                        XMLElement("resourceId", tag.resourceId), XMLElement("resourceType", tag.resourceType),
                        XMLElement("key", tag.key), XMLElement("value", tag.value),
                    ]
                })
        ] + XMLElement.optional("nextToken", page.nextToken)
    }
}
