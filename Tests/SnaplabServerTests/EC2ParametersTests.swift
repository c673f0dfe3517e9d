import Foundation
import Testing

@testable import SnaplabServer

@Suite struct EC2ParametersTests {
    @Test func flattenedListsStructuresFiltersAndTags() throws {
        let parameters = EC2Parameters(
            formBody: "Action=DescribeVolumes&Version=2016-11-15&VolumeId.1=vol-1&VolumeId.2=vol-2"
                + "&Filter.1.Name=tag%3Aapp&Filter.1.Value.1=web&Filter.1.Value.2=db&Filter.2.Name=status&Filter.2.Value.1=in-use"
                + "&TagSpecification.1.ResourceType=volume&TagSpecification.1.Tag.1.Key=team&TagSpecification.1.Tag.1.Value=a+b"
        )
        #expect(parameters.action == "DescribeVolumes")
        #expect(parameters.list("VolumeId") == ["vol-1", "vol-2"])
        #expect(parameters.filters.map(\.name) == ["tag:app", "status"])
        #expect(parameters.filters.first?.values == ["web", "db"])
        #expect(try parameters.tagSpecifications(for: "volume") == ["team": "a b"])
        #expect(try parameters.tagSpecifications(for: "snapshot").isEmpty)
        #expect(throws: EC2Error.self) { _ = try parameters.required("SnapshotId") }
    }

    @Test func manyStructuresAreFoundInOnePassAndStopAtTheFirstGap() throws {
        var body = "Action=CreateTags&Version=2016-11-15"
        for index in 1...3000 { body += "&Tag.\(index).Key=k\(index)&Tag.\(index).Value=v" }
        body += "&Tag.3002.Key=after-a-gap&Filter.1.Name=x"
        let parameters = EC2Parameters(formBody: body)
        let structures = parameters.structures("Tag")
        #expect(structures.count == 3000 && structures.last == "Tag.3000")
        #expect(try parameters.tags("Tag").count == 3000)
        #expect(parameters.structures("Filter") == ["Filter.1"])
        #expect(parameters.structures("Ta").isEmpty)
    }

    @Test func globsMatchLikeEC2Wildcards() {
        #expect(EC2Filter.glob("round *", "round 12"))
        #expect(EC2Filter.glob("r?und*", "round"))
        #expect(!EC2Filter.glob("round ?", "round 12"))
        #expect(EC2Filter.glob("*", ""))
    }

    @Test func paginationWalksAStableOrder() throws {
        let items = Array(0..<5)
        let first = try EC2Filtering.page(items, parameters: EC2Parameters(formBody: "MaxResults=2"))
        #expect(first.items == [0, 1] && first.nextToken == "2")
        let last = try EC2Filtering.page(items, parameters: EC2Parameters(formBody: "MaxResults=2&NextToken=4"))
        #expect(last.items == [4] && last.nextToken == nil)
        #expect(throws: EC2Error.self) {
            _ = try EC2Filtering.page(items, parameters: EC2Parameters(formBody: "NextToken=zz"))
        }
    }

    @Test func errorsRenderAsEC2ErrorDocuments() {
        let xml = EC2Error(code: "InvalidVolume.NotFound", message: "no <volume>").xml(requestId: "r-1")
        #expect(
            xml.contains(
                "<Response><Errors><Error><Code>InvalidVolume.NotFound</Code><Message>no &lt;volume&gt;</Message></Error></Errors><RequestID>r-1</RequestID></Response>"
            ))
    }
}
