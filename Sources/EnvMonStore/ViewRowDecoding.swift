public import EnvMonDomain
import Foundation
import Logging
import PostgresNIO

/// A view row the store can decode: each column by its name, into its Swift type, so that a
/// renamed column or a changed type is an error rather than a silent nil.
protocol DecodableViewRow: ViewRow {
    init(_ row: PostgresRandomAccessRow) throws
}

extension DecodableViewRow {
    /// `SELECT <columns> FROM <view> <rest>`: every column this row type reads, by name.
    static func select(_ rest: String = "") -> String {
        "SELECT " + columns.map(\.name).joined(separator: ", ") + " FROM " + view + (rest.isEmpty ? "" : " " + rest)
    }
}

/// A view returned a value its row type cannot hold (an unknown status word, say).
public struct ViewRowError: Error, Sendable, CustomStringConvertible {
    public let view: String
    public let column: String
    public let reason: String
    public var description: String { "\(view).\(column): \(reason)" }
}

extension PostgresConnection {
    /// Rows of `R`'s view, `rest` being a constant WHERE/ORDER clause with `$n` binds.
    func viewRows<R: DecodableViewRow>(
        _ type: R.Type, _ rest: String = "", binds: PostgresBindings = PostgresBindings(), logger: Logger
    ) async throws -> [R] {
        var result: [R] = []
        for try await row in try await query(PostgresQuery(unsafeSQL: R.select(rest), binds: binds), logger: logger) {
            result.append(try R(row.makeRandomAccess()))
        }
        return result
    }
}

extension Database {
    func viewRows<R: DecodableViewRow>(
        _ type: R.Type, _ rest: String = "", binds: PostgresBindings = PostgresBindings()
    ) async throws -> [R] {
        try await client.withConnection { try await $0.viewRows(type, rest, binds: binds, logger: logger) }
    }
}

extension PostgresRandomAccessRow {
    /// A text column read as one of a Swift enum's raw values.
    func word<E: RawRepresentable>(_ column: String, _ type: E.Type, view: String) throws -> E where E.RawValue == String {
        let text = try self[column].decode(String.self)
        guard let value = E(rawValue: text) else {
            throw ViewRowError(view: view, column: column, reason: "unknown value '\(text)'")
        }
        return value
    }

    func optionalWord<E: RawRepresentable>(_ column: String, _ type: E.Type, view: String) throws -> E?
    where E.RawValue == String {
        guard let text = try self[column].decode(String?.self) else { return nil }
        guard let value = E(rawValue: text) else {
            throw ViewRowError(view: view, column: column, reason: "unknown value '\(text)'")
        }
        return value
    }

    /// A `date` column: postgres-nio gives midnight UTC of the day.
    func civilDate(_ column: String) throws -> CivilDate {
        CivilDate(utcMidnight: try self[column].decode(Date.self))
    }

    func optionalCivilDate(_ column: String) throws -> CivilDate? {
        try self[column].decode(Date?.self).map(CivilDate.init(utcMidnight:))
    }

    func int(_ column: String) throws -> Int? {
        try self[column].decode(Int?.self)
    }
}

extension CivilDate {
    /// The day of a `date` value as postgres-nio decodes it (00:00 UTC).
    init(utcMidnight date: Date) {
        let days = Int((date.timeIntervalSince1970 / 86_400).rounded(.down))
        let (year, month, day) = CivilCalendar.civil(fromDays: days)
        self.init(year: year, month: month, day: day)
    }

    /// 00:00 UTC of the day, as postgres-nio binds a `date`.
    var utcMidnight: Date {
        Date(timeIntervalSince1970: Double(CivilCalendar.daysFromCivil(year: year, month: month, day: day)) * 86_400)
    }
}

extension PlanProgressRow: DecodableViewRow {
    init(_ r: PostgresRandomAccessRow) throws {
        self.init(
            metric: try r["metric"].decode(String.self), scope: try r["scope"].decode(String.self),
            period: try r["period"].decode(String?.self),
            comparator: try r.word("comparator", Comparator.self, view: Self.view),
            target: try r["target"].decode(Decimal.self), value: try r["value"].decode(Decimal?.self),
            valuePct: try r["value_pct"].decode(Decimal?.self), gap: try r["gap"].decode(Decimal?.self),
            status: try r.word("status", PlanStatus.self, view: Self.view), due: try r.civilDate("due"),
            projected: try r["projected"].decode(Decimal?.self))
    }
}

extension ExceedanceDay: DecodableViewRow {
    init(_ r: PostgresRandomAccessRow) throws {
        self.init(
            enterpriseID: try r["enterprise_id"].decode(String.self),
            enterpriseName: try r["enterprise_name"].decode(String?.self), district: try r["district"].decode(String?.self),
            outletID: try r["outlet_id"].decode(String.self), pollutant: try r["pollutant"].decode(String.self),
            day: try r.civilDate("day"), mean: try r["mean"].decode(Double?.self),
            limitMin: try r["limit_min"].decode(Double?.self), limitMax: try r["limit_max"].decode(Double?.self))
    }
}

extension SectionClassRow: DecodableViewRow {
    init(_ r: PostgresRandomAccessRow) throws {
        self.init(
            sectionID: try r["section_id"].decode(String.self), sectionName: try r["section_name"].decode(String?.self),
            river: try r["river"].decode(String?.self), district: try r["district"].decode(String?.self),
            riverLevel: try r["river_level"].decode(Int16?.self).map(Int.init),
            granularity: try r.word("granularity", Granularity.self, view: Self.view),
            period: try r["period"].decode(String.self), periodStart: try r.civilDate("period_start"),
            periodEnd: try r.civilDate("period_end"), waterClass: try r["class"].decode(Int16?.self).map(Int.init),
            classLabel: try r["class_label"].decode(String?.self),
            decidingItems: try r["deciding_items"].decode([String]?.self),
            reportedClass: try r["reported_class"].decode(Int16?.self).map(Int.init))
    }
}

extension EnterpriseComplianceRow: DecodableViewRow {
    init(_ r: PostgresRandomAccessRow) throws {
        self.init(
            enterpriseID: try r["enterprise_id"].decode(String.self),
            enterpriseName: try r["enterprise_name"].decode(String?.self), district: try r["district"].decode(String?.self),
            period: try r["period"].decode(String.self), periodStart: try r.civilDate("period_start"),
            compliant: try r["compliant"].decode(Bool?.self), reportingDays: try r["reporting_days"].decode(Int.self),
            compliantDays: try r["compliant_days"].decode(Int.self), firstFailingDay: try r.optionalCivilDate("first_failing_day"),
            firstFailingPollutant: try r["first_failing_pollutant"].decode(String?.self),
            insufficientDays: try r["insufficient_days"].decode(Int.self))
    }
}

extension SiteFreshnessRow: DecodableViewRow {
    init(_ r: PostgresRandomAccessRow) throws {
        self.init(
            feedKind: try r.word("feed_kind", FeedKind.self, view: Self.view),
            siteKind: try r["site_kind"].decode(String.self), parentID: try r["parent_id"].decode(String?.self),
            siteID: try r["site_id"].decode(String.self), siteName: try r["site_name"].decode(String?.self),
            district: try r["district"].decode(String?.self), lastDataAt: try r["last_data_at"].decode(Date?.self),
            lastDay: try r.optionalCivilDate("last_day"))
    }
}

extension FeedFreshnessRow: DecodableViewRow {
    init(_ r: PostgresRandomAccessRow) throws {
        self.init(
            feedKind: try r.word("feed_kind", FeedKind.self, view: Self.view),
            lastReceivedAt: try r["last_received_at"].decode(Date?.self),
            lastLoadedAt: try r["last_loaded_at"].decode(Date?.self), lastDataAt: try r["last_data_at"].decode(Date?.self),
            lastDay: try r.optionalCivilDate("last_day"), sites: Int(try r["sites"].decode(Int64.self)),
            sitesWithData: Int(try r["sites_with_data"].decode(Int64.self)))
    }
}

extension UploadOutcomeRow: DecodableViewRow {
    init(_ r: PostgresRandomAccessRow) throws {
        self.init(
            uploadID: try r["upload_id"].decode(Int64.self), kind: try r.word("kind", FeedKind.self, view: Self.view),
            fileName: try r["file_name"].decode(String?.self), uploader: try r["uploader"].decode(String.self),
            receivedAt: try r["received_at"].decode(Date.self),
            status: try r.word("status", UploadStatus.self, view: Self.view),
            rowsTotal: try r["rows_total"].decode(Int32?.self).map(Int.init),
            rowsRejected: try r["rows_rejected"].decode(Int32?.self).map(Int.init),
            rejectedShare: try r["rejected_share"].decode(Decimal?.self))
    }
}
