@testable import EnvMonAlerting
import Foundation
import PropertyBased
import Testing

/// The rule, route and target parsers over damaged versions of the shipped files — what
/// `scripts/fuzz.sh alert-files` explores for hours, checked on every run: a file is either
/// read or refused with issues that name a line; never a crash.
@Suite("Alert files: properties over damaged files")
struct AlertFilePropertyTests {
    static func shipped(_ name: String) throws -> String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return try String(contentsOf: root.appendingPathComponent("alerts/\(name)"), encoding: .utf8)
    }

    /// `text` with `edits` applied: each replaces one character by one of YAML's own.
    static func damage(_ text: String, edits: [Int]) -> String {
        var characters = Array(text)
        let alphabet = Array(":-#'\"{}[],&*!|>%@` \n\t\u{0}x9")
        for edit in edits where !characters.isEmpty {
            let position = edit % characters.count
            characters[position] = alphabet[(edit / characters.count) % alphabet.count]
        }
        return String(characters)
    }

    @Test("damaged rules, routes and targets files are read or refused with located issues")
    func damagedFiles() async throws {
        let files = [try Self.shipped("rules.yaml"), try Self.shipped("routes.yaml"), try Self.shipped("targets.yaml")]
        await propertyCheck(count: 150, input: Gen.int(in: 0...2), Gen.int(in: 0...10_000_000).array(of: 1...6)) { which, edits in
            let text = Self.damage(files[which], edits: edits)
            do {
                switch which {
                case 0: _ = try RuleFile.parse(text: text, fileName: "rules.yaml")
                case 1: _ = try RouteFile.parse(text: text, fileName: "routes.yaml", environment: [:])
                default: _ = try TargetFile.parse(text: text, fileName: "targets.yaml")
                }
            } catch let error as AlertFileError {
                #expect(!error.issues.isEmpty)
                #expect(error.description.contains(".yaml"), "\(error.description)")
            } catch {
                Issue.record("not an AlertFileError: \(error)")
            }
        }
    }
}
