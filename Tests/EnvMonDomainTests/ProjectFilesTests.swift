import Foundation
import Testing

/// The README's two set-up commands stay true: CI runs exactly the README's test command.
@Suite struct ProjectFilesTests {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The commands of the README's first two ```sh blocks.
    static func readmeCommands() throws -> [String] {
        let text = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        var commands: [String] = []
        var inBlock = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("```") {
                inBlock = line == "```sh"
                continue
            }
            if inBlock, !line.isEmpty, !line.hasPrefix("#") { commands.append(String(line)) }
            if commands.count == 2 { break }
        }
        return commands
    }

    @Test func ciRunsTheReadmeTestCommand() throws {
        let commands = try Self.readmeCommands()
        try #require(commands.count == 2)
        #expect(commands[0] == "swift run -c release envmon demo")
        let ci = try String(contentsOf: Self.root.appendingPathComponent(".ci/run"), encoding: .utf8)
        let lastCommand = ci.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .last { !$0.isEmpty && !$0.hasPrefix("#") && !$0.hasPrefix("echo") }
        #expect(lastCommand == commands[1])
    }

    @Test func resolvedPackagesAndBuildFoldersAreIgnored() throws {
        let ignore = try String(contentsOf: Self.root.appendingPathComponent(".gitignore"), encoding: .utf8)
        for entry in ["Package.resolved", ".build/", ".build-*/"] {
            #expect(ignore.contains(entry))
        }
    }
}
