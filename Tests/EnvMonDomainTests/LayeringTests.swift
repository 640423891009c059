import Foundation
import Testing

/// DESIGN.md's layering, checked on the sources: SwiftPM lets a target import any module that is
/// built before it (transitively), so the manifest alone cannot keep the CLI out of the store or
/// the pure modules free of I/O libraries. This test reads every `import` line of every target.
@Suite("Layering: what each target may import")
struct LayeringTests {
    /// Modules of the toolchain and the platform, allowed everywhere.
    static let system: Set<String> = [
        "Foundation", "FoundationEssentials", "FoundationXML", "FoundationNetworking", "Glibc", "Musl",
        "Darwin", "Dispatch", "Synchronization", "_Concurrency",
    ]

    /// Project and package modules each target may import (DESIGN.md, "Layout").
    static let allowed: [String: Set<String>] = [
        "EnvMonDomain": [],
        "EnvMonIngest": ["EnvMonDomain", "EnvMonXLSX"],
        "EnvMonXLSX": ["ZIPFoundation"],
        "EnvMonAlerting": ["EnvMonDomain", "Yams"],
        "EnvMonHJ212": ["EnvMonDomain"],
        "EnvMonWeb": ["EnvMonDomain", "Mustache"],
        "EmbeddedPostgres": ["Logging"],
        "EnvMonStore": ["EnvMonDomain", "PostgresNIO", "NIOCore", "NIOSSL", "Logging", "Crypto"],
        "EnvMonNotify": [
            "EnvMonDomain", "NIOCore", "NIOPosix", "NIOSSL", "NIOHTTP1", "AsyncHTTPClient", "Logging",
        ],
        "EnvMonServer": [
            "EnvMonDomain", "EnvMonIngest", "EnvMonXLSX", "EnvMonAlerting", "EnvMonHJ212", "EnvMonWeb",
            "EmbeddedPostgres", "EnvMonStore", "EnvMonNotify",
            "Hummingbird", "HummingbirdCore", "HummingbirdAuth", "HummingbirdBcrypt", "HummingbirdTLS", "HTTPTypes",
            "ServiceLifecycle", "UnixSignals", "Metrics", "CoreMetrics", "Prometheus", "MultipartKit", "Crypto",
            "Logging", "NIOCore", "NIOPosix", "NIOSSL", "NIOConcurrencyHelpers",
        ],
        // The executable parses arguments and calls EnvMonServer; EnvMonDomain for its pure values.
        "envmon": ["EnvMonServer", "EnvMonDomain", "ArgumentParser", "Logging"],
        "EmbedResources": [],
    ]

    static var sources: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources")
    }

    /// `import X`, `public import X`, `@preconcurrency import X`, `import struct X.Y` → X.
    static func importedModules(in text: String) -> [(line: Int, module: String)] {
        var found: [(Int, String)] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            while let first = words.first, first.hasPrefix("@") || ["public", "package", "internal", "private", "fileprivate"].contains(first) {
                words.removeFirst()
            }
            guard words.first == "import", words.count >= 2 else { continue }
            var path = words[1]
            if ["struct", "class", "enum", "protocol", "func", "var", "let", "typealias"].contains(path), words.count >= 3 {
                path = words[2]
            }
            let module = String(path.split(separator: ".").first ?? Substring(path))
            found.append((number + 1, module))
        }
        return found
    }

    @Test("the import parser reads the forms the sources use")
    func parserForms() {
        let text = """
            import Foundation
            public import EnvMonDomain
            @preconcurrency import NIOCore
            import struct Logging.Logger
            // import Commented
            let x = "import Nothing"
            """
        #expect(Self.importedModules(in: text).map(\.module) == ["Foundation", "EnvMonDomain", "NIOCore", "Logging"])
    }

    @Test("every target imports only what DESIGN.md allows")
    func targetsFollowTheLayering() throws {
        let targets = try FileManager.default.contentsOfDirectory(atPath: Self.sources.path).sorted()
        #expect(targets.contains("envmon"), "Sources/ not found at \(Self.sources.path)")
        var violations: [String] = []
        for target in targets where !target.hasPrefix(".") {
            guard let allowed = Self.allowed[target] else {
                violations.append("Sources/\(target): a target DESIGN.md's layering (and this test) does not know")
                continue
            }
            let root = Self.sources.appendingPathComponent(target)
            guard let files = FileManager.default.enumerator(atPath: root.path) else { continue }
            for case let file as String in files where file.hasSuffix(".swift") {
                let text = try String(contentsOf: root.appendingPathComponent(file), encoding: .utf8)
                for (line, module) in Self.importedModules(in: text)
                where !Self.system.contains(module) && !allowed.contains(module) {
                    violations.append("Sources/\(target)/\(file):\(line): imports \(module)")
                }
            }
        }
        #expect(violations.isEmpty, "\(violations.joined(separator: "\n"))")
    }
}
