import EnvMonAlerting
import EnvMonDomain
import EnvMonStore
import Foundation

/// Turns the analytics views into alert candidates, one per condition that holds at `now`.
enum AlertCandidates {
    static func collect(rules: [AlertRule], now: Date, on tx: AlertTransaction) async throws -> [AlertCandidate] {
        let zoneName = try await tx.feedTimeZone()
        let zone = TimeZone(identifier: zoneName) ?? FeedDefaults.timeZone
        var candidates: [AlertCandidate] = []
        for rule in rules where rule.enabled {
            switch rule.kind {
            case .target: candidates += try await plan(rule, status: "missed", tx)
            case .forecast: candidates += try await plan(rule, status: "at_risk", tx)
            case .exceedance: candidates += try await exceedances(rule, now: now, zone: zone, tx)
            case .waterClass: candidates += try await waterClass(rule, tx)
            case .missingData: candidates += try await missingData(rule, now: now, zone: zone, tx)
            case .dataQuality: candidates += try await dataQuality(rule, tx)
            }
        }
        return candidates
    }

    private static func plan(_ rule: AlertRule, status: String, _ tx: AlertTransaction) async throws -> [AlertCandidate] {
        try await tx.planProgress(status: status).map { row in
            var annotations = pick(row, ["period", "comparator", "due", "status"])
            if let projected = row["projected"] { annotations["projected"] = projected }
            if let scope = row["scope"], scope != "all" { annotations["district"] = scope }
            return AlertCandidate(
                rule: rule.name, identity: pick(row, ["metric", "scope"]), annotations: annotations,
                value: row["value"].flatMap(Double.init), target: row["target"].flatMap(Double.init))
        }
    }

    private static func exceedances(_ rule: AlertRule, now: Date, zone: TimeZone, _ tx: AlertTransaction) async throws -> [AlertCandidate] {
        let since = localDay(now.addingTimeInterval(-rule.lookback), zone: zone)
        let rows = try await tx.exceedances(sinceDay: since)
        var grouped: [[String]: [[String: String]]] = [:]
        var order: [[String]] = []
        for row in rows {
            let key = [row["enterprise_id"] ?? "", row["outlet_id"] ?? "", row["pollutant"] ?? ""]
            if grouped[key] == nil { order.append(key) }
            grouped[key, default: []].append(row)
        }
        return order.compactMap { key in
            guard let days = grouped[key], let last = days.last else { return nil }
            let listed = days.map { day in
                "\(day["day"] ?? "?") \(number(day["mean"]))" + (day["limit_max"].map { " > \(number($0))" } ?? "")
            }
            let maxMean = days.compactMap { $0["mean"].flatMap(Double.init) }.max()
            var annotations = pick(last, ["enterprise_name", "district"])
            annotations["days"] = listed.joined(separator: "；")
            annotations["day_count"] = String(days.count)
            annotations["limit"] = last["limit_max"].map(number) ?? last["limit_min"].map { "≥ \(number($0))" } ?? "—"
            annotations["period"] = "\(days.first?["day"] ?? "")..\(last["day"] ?? "")"
            return AlertCandidate(
                rule: rule.name, identity: ["enterprise_id": key[0], "outlet_id": key[1], "pollutant": key[2]],
                annotations: annotations, value: maxMean, target: last["limit_max"].flatMap(Double.init))
        }
    }

    private static func waterClass(_ rule: AlertRule, _ tx: AlertTransaction) async throws -> [AlertCandidate] {
        try await tx.sectionsWorseThanV().map { row in
            var annotations = pick(row, ["section_name", "river", "district", "period"])
            annotations["water_class"] = row["class_label"] ?? "劣Ⅴ"
            if let items = row["deciding_items"] { annotations["deciding_items"] = items }
            return AlertCandidate(rule: rule.name, identity: pick(row, ["section_id"]), annotations: annotations,
                                  value: row["class"].flatMap(Double.init), target: 5)
        }
    }

    private static func missingData(_ rule: AlertRule, now: Date, zone: TimeZone, _ tx: AlertTransaction) async throws -> [AlertCandidate] {
        var candidates: [AlertCandidate] = []
        for row in try await tx.siteFreshness() {
            guard let kindName = row["feed_kind"], let kind = FeedKind(rawValue: kindName),
                  let cadence = rule.cadence[kind] else { continue }
            // A place that never reported is judged from when it was registered: not at all.
            guard let lastText = row["last_data_at"], let last = parseTimestamp(lastText) else { continue }
            let silent = now.timeIntervalSince(last)
            guard silent > cadence else { continue }
            var annotations = pick(row, ["site_name", "district"])
            annotations["site_name"] = annotations["site_name"] ?? row["site_id"]
            annotations["last_data_at"] = localTime(last, zone: zone)
            annotations["silent_for"] = AlertDuration.text((silent / 3600).rounded(.down) * 3600)
            annotations["period"] = row["last_day"] ?? ""
            var identity = ["feed_kind": kindName, "site_kind": row["site_kind"] ?? "", "site_id": row["site_id"] ?? ""]
            if let parent = row["parent_id"], !parent.isEmpty { identity["parent_id"] = parent }
            candidates.append(AlertCandidate(rule: rule.name, identity: identity, annotations: annotations,
                                             value: silent / 3600, target: cadence / 3600))
        }
        for row in try await tx.feedFreshness() {
            guard let kindName = row["feed_kind"], let kind = FeedKind(rawValue: kindName), let cadence = rule.cadence[kind],
                  let received = row["last_received_at"].flatMap(parseTimestamp) else { continue }
            let silent = now.timeIntervalSince(received)
            guard silent > cadence else { continue }
            candidates.append(AlertCandidate(
                rule: rule.name, identity: ["feed_kind": kindName, "site_kind": "feed", "site_id": kindName],
                annotations: ["site_name": "\(kindName) feed", "last_data_at": localTime(received, zone: zone),
                              "silent_for": AlertDuration.text((silent / 3600).rounded(.down) * 3600)],
                value: silent / 3600, target: cadence / 3600))
        }
        return candidates
    }

    private static func dataQuality(_ rule: AlertRule, _ tx: AlertTransaction) async throws -> [AlertCandidate] {
        try await tx.latestUploadQuality().compactMap { row in
            guard let share = row["rejected_share"].flatMap(Double.init), share > rule.maxRejectedShare else { return nil }
            var annotations = pick(row, ["upload_id", "file_name", "status"])
            annotations["total"] = row["rows_total"] ?? "0"
            annotations["rejected"] = row["rows_rejected"] ?? "0"
            annotations["period"] = row["received_at"] ?? ""
            return AlertCandidate(rule: rule.name, identity: ["feed_kind": row["kind"] ?? "", "uploader": row["uploader"] ?? ""],
                                  annotations: annotations, value: share, target: rule.maxRejectedShare)
        }
    }

    // MARK: - Helpers

    static func pick(_ row: [String: String], _ keys: [String]) -> [String: String] {
        var result: [String: String] = [:]
        for key in keys { if let value = row[key], !value.isEmpty { result[key] = value } }
        return result
    }

    static func number(_ text: String?) -> String {
        guard let text, let value = Double(text) else { return text ?? "—" }
        return AlertMetricName.decimal(value, places: 2)
    }

    static func localDay(_ date: Date, zone: TimeZone) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let c = calendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", c.year ?? 1970, c.month ?? 1, c.day ?? 1)
    }

    static func localTime(_ date: Date, zone: TimeZone) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        return String(format: "%04d-%02d-%02d %02d:%02d", c.year ?? 1970, c.month ?? 1, c.day ?? 1, c.hour ?? 0, c.minute ?? 0)
    }

    /// Timestamps as to_jsonb prints them: `2026-03-01T10:00:00+08:00` (fractional seconds optional).
    static func parseTimestamp(_ text: String) -> Date? {
        let plain = ISO8601DateFormatter()
        if let date = plain.date(from: text) { return date }
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return fractional.date(from: text)
    }
}
