import EnvMonDomain
import Foundation
import Testing
@testable import EnvMonIngest

/// docs/feeds.md must list every column name the code accepts, so the users' page and the
/// alias table cannot drift apart.
@Suite struct FeedsDocTests {
    static func document() throws -> String {
        let url = try #require(Fixture.locate("docs/feeds.md"))
        return try String(contentsOf: url, encoding: .utf8)
    }

    @Test(arguments: FeedKind.allCases)
    func everyColumnNameIsDocumented(kind: FeedKind) throws {
        let text = try Self.document()
        #expect(text.contains("## `\(kind.rawValue)`"))
        let names = ColumnAliases.columns(for: kind).flatMap(\.allNames)
        #expect(!names.isEmpty)
        let undocumented = names.filter { !text.contains("`\($0)`") }
        #expect(undocumented == [], "docs/feeds.md lacks these \(kind) column names")
    }

    @Test func requiredColumnsAreMarkedRequired() throws {
        let text = try Self.document()
        let required = FeedKind.allCases.flatMap { kind in
            ColumnAliases.columns(for: kind).filter(\.required).map(\.canonical)
        }
        #expect(required.filter { !text.contains("**`\($0)`**") } == [])
    }

    @Test func everyPollutantNameIsDocumented() throws {
        let text = try Self.document()
        let names = PollutantCodes.compliance.flatMap { [$0.name, $0.code] + $0.names }
            + PollutantCodes.factors.map(\.code2017)
        #expect(names.filter { !text.contains("`\($0)`") } == [])
    }
}
