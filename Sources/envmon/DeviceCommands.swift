import ArgumentParser
import EnvMonDomain
import EnvMonServer
import Foundation

/// `envmon devices add|list|retire`: the HJ 212 data loggers whose packets are accepted.
struct Devices: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devices",
        abstract: "Register, list and retire HJ 212 data loggers (数采仪).",
        discussion: """
            A packet is accepted only from a registered, active device (its MN) with its \
            password (PW); its values are stored for the device's enterprise and outlet. \
            Passwords are kept as SHA-256 only. See docs/hj212.md.
            """,
        subcommands: [Add.self, List.self, Retire.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Register a data logger by its MN, for an enterprise's outlet.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The device's MN (1 to 64 letters, digits, '_', '.' or '-').")
        var mn: String
        @Option(name: .long, help: "Its access password (PW), as configured in the logger.")
        var password: String
        @Option(name: .long, help: "The enterprise id its data belong to.")
        var enterprise: String
        @Option(name: .long, help: "The outlet id its data belong to.")
        var outlet: String
        @Option(name: .long, help: "A name to show (optional).")
        var name: String?

        func validate() throws {
            if !DataLogger.validMN(mn) { throw ValidationError("an MN is 1 to 64 letters, digits, '_', '.' or '-'") }
            if let problem = DataLogger.passwordProblem(password) { throw ValidationError(problem) }
            if enterprise.isEmpty || outlet.isEmpty { throw ValidationError("--enterprise and --outlet must not be empty") }
        }

        func run() async throws {
            let device = try await global.operations.addDevice(
                mn: mn, password: password, enterpriseID: enterprise, outletID: outlet, name: name)
            if global.json { try Output.json(device); return }
            Output.line("device \(device.mn.printable) added for \(device.enterpriseID.printable)/\(device.outletID.printable)")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every registered data logger, retired ones included.")
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let devices = try await global.operations.devices()
            if global.json { try Output.json(["devices": devices]); return }
            Output.line("mn                        enterprise   outlet     name                 created              retired")
            for d in devices {
                Output.line([d.mn.printable.padding(25), d.enterpriseID.printable.padding(12), d.outletID.printable.padding(10),
                             (d.name ?? "-").printable.padding(20), d.createdAt.iso8601Text.padding(20),
                             d.retiredAt?.iso8601Text ?? "-"].joined(separator: " "))
            }
        }
    }

    struct Retire: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Retire a data logger: its packets are refused (unknown_device) from now on.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The device's MN.")
        var mn: String

        func run() async throws {
            let device = try await global.operations.retireDevice(mn: mn)
            if global.json { try Output.json(device); return }
            Output.line("device \(device.mn.printable) retired")
        }
    }
}
