public import EnvMonDomain
import EnvMonStore
import Foundation

extension Operations {
    /// Registers an HJ 212 data logger; only the SHA-256 of its password is kept.
    public func addDevice(mn: String, password: String, enterpriseID: String, outletID: String,
                          name: String?) async throws -> DataLogger {
        guard DataLogger.validMN(mn) else {
            throw EnvMonError.invalid("an MN is 1 to 64 letters, digits, '_', '.' or '-'")
        }
        if let problem = DataLogger.passwordProblem(password) { throw EnvMonError.invalid(problem) }
        for (label, id) in [("enterprise", enterpriseID), ("outlet", outletID)] where !(1...100).contains(id.count) {
            throw EnvMonError.invalid("an \(label) id is 1 to 100 characters")
        }
        let actor = AuditActor.localCommand
        return try await withDatabase { db in
            let device = try await DataLoggerStore(database: db).add(
                mn: mn, password: password, enterpriseID: enterpriseID, outletID: outletID, name: name,
                createdBy: actor.name)
            try await AuditLog(database: db).record(
                actor, "device.add", subject: "device \(mn)",
                summary: "\(enterpriseID)/\(outletID)" + (name.map { " \($0)" } ?? ""))
            return device
        }
    }

    /// Every registered data logger.
    public func devices() async throws -> [DataLogger] {
        try await withDatabase { try await DataLoggerStore(database: $0).list() }
    }

    /// Retires a data logger: its packets are refused from now on.
    public func retireDevice(mn: String) async throws -> DataLogger {
        let actor = AuditActor.localCommand
        return try await withDatabase { db in
            let device = try await DataLoggerStore(database: db).retire(mn: mn, by: actor.name)
            try await AuditLog(database: db).record(actor, "device.retire", subject: "device \(mn)",
                                                    summary: "\(device.enterpriseID)/\(device.outletID)")
            return device
        }
    }
}
