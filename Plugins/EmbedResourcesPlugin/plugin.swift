import Foundation
import PackagePlugin

/// Generates `EmbeddedResources.swift` for a target from the package's `sql/` (EnvMonStore) or
/// `alerts/` (EnvMonServer) or `web/` (EnvMonWeb: templates, the stylesheet and the script) folder, so the binary carries its migrations, views and default
/// alert files and works from any working directory.
@main
struct EmbedResourcesPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
        let folder: String
        switch target.name {
        case "EnvMonStore": folder = "sql"
        case "EnvMonServer": folder = "alerts"
        case "EnvMonWeb": folder = "web"
        default: return []
        }
        let root = context.package.directoryURL.appending(path: folder)
        var inputs: [URL] = []
        if let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil) {
            for case let url as URL in walker where ["sql", "yaml", "yml", "mustache", "css", "js", "svg"].contains(url.pathExtension) {
                inputs.append(url)
            }
        }
        inputs.sort { $0.path < $1.path }
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedResources.swift")
        return [
            .buildCommand(
                displayName: "Embedding \(folder)/ into \(target.name)",
                executable: try context.tool(named: "EmbedResources").url,
                arguments: [root.path, output.path] + inputs.map(\.path),
                inputFiles: inputs,
                outputFiles: [output]
            )
        ]
    }
}
