import EnvMonAlerting
import EnvMonDomain
import EnvMonStore
import Foundation

/// Turns the analytics views' typed rows into alert candidates, one per condition that holds at
/// `now`.
enum AlertCandidates {
    static func collect(rules: [AlertRule], now: Date, on tx: AlertTransaction) async throws -> [AlertCandidate] {
        let zone = try await tx.feedTimeZone()
        var candidates: [AlertCandidate] = []
        for rule in rules where rule.enabled {
            switch rule.kind {
            case .target: candidates += try await plan(rule, status: .missed, tx)
            case .forecast: candidates += try await plan(rule, status: .atRisk, tx)
            case .exceedance: candidates += try await exceedances(rule, now: now, zone: zone, tx)
            case .waterClass: candidates += try await waterClass(rule, tx)
            case .missingData: candidates += try await missingData(rule, now: now, zone: zone, tx)
            case .dataQuality: candidates += try await dataQuality(rule, tx)
            case .deviceOffline: candidates += try await deviceOffline(rule, now: now, zone: zone, tx)
            case .constantValue: candidates += try await valueRuns(rule, constant: true, zone: zone, tx)
            case .zeroOrNegative: candidates += try await valueRuns(rule, constant: false, zone: zone, tx)
            }
        }
        return candidates
    }

    private static func plan(_ rule: AlertRule, status: PlanStatus, _ tx: AlertTransaction) async throws -> [AlertCandidate] {
        try await tx.planProgress(status: status).map { row in
            var annotations = ["comparator": row.comparator.rawValue, "due": row.due.description,
                               "status": row.status.rawValue]
            if let period = row.period { annotations["period"] = period }
            if let projected = row.projected { annotations["projected"] = projected.description }
            if row.scope != "all" { annotations["district"] = row.scope }
            return AlertCandidate(
                rule: rule.name, identity: ["metric": row.metric, "scope": row.scope], annotations: annotations,
                value: row.value?.double, target: row.target.double)
        }
    }

    private static func exceedances(_ rule: AlertRule, now: Date, zone: TimeZone, _ tx: AlertTransaction) async throws -> [AlertCandidate] {
        let since = localDay(now.addingTimeInterval(-rule.lookback), zone: zone)
        var grouped: [[String]: [ExceedanceDay]] = [:]
        var order: [[String]] = []
        for row in try await tx.exceedances(sinceDay: since) {
            let key = [row.enterpriseID, row.outletID, row.pollutant]
            if grouped[key] == nil { order.append(key) }
            grouped[key, default: []].append(row)
        }
        return order.compactMap { key in
            guard let days = grouped[key], let first = days.first, let last = days.last else { return nil }
            let listed = days.map { day in
                "\(day.day) \(number(day.mean))" + (day.limitMax.map { " > \(number($0))" } ?? "")
            }
            var annotations: [String: String] = [:]
            if let name = last.enterpriseName, !name.isEmpty { annotations["enterprise_name"] = name }
            if let district = last.district, !district.isEmpty { annotations["district"] = district }
            annotations["days"] = listed.joined(separator: "；")
            annotations["day_count"] = String(days.count)
            annotations["limit"] = last.limitMax.map(number) ?? last.limitMin.map { "≥ \(number($0))" } ?? "—"
            annotations["period"] = "\(first.day)..\(last.day)"
            return AlertCandidate(
                rule: rule.name, identity: ["enterprise_id": key[0], "outlet_id": key[1], "pollutant": key[2]],
                annotations: annotations, value: days.compactMap(\.mean).max(), target: last.limitMax)
        }
    }

    private static func waterClass(_ rule: AlertRule, _ tx: AlertTransaction) async throws -> [AlertCandidate] {
        try await tx.latestMonthlySectionClasses().compactMap { row in
            guard row.riverLevel == 2, row.waterClass == WaterClass.worseThanV.rawValue else { return nil }
            var annotations = ["period": row.period, "water_class": row.classLabel ?? WaterClass.worseThanV.label]
            if let name = row.sectionName { annotations["section_name"] = name }
            if let river = row.river { annotations["river"] = river }
            if let district = row.district { annotations["district"] = district }
            if let items = row.decidingItems, !items.isEmpty { annotations["deciding_items"] = items.joined(separator: ",") }
            return AlertCandidate(rule: rule.name, identity: ["section_id": row.sectionID], annotations: annotations,
                                  value: row.waterClass.map(Double.init), target: Double(WaterClass.v.rawValue))
        }
    }

    private static func missingData(_ rule: AlertRule, now: Date, zone: TimeZone, _ tx: AlertTransaction) async throws -> [AlertCandidate] {
        var candidates: [AlertCandidate] = []
        for row in try await tx.siteFreshness() {
            // A place that never reported is judged from when it was registered: not at all.
            guard let cadence = rule.cadence[row.feedKind], let last = row.lastDataAt else { continue }
            let silent = now.timeIntervalSince(last)
            guard silent > cadence else { continue }
            var annotations = ["site_name": row.siteName ?? row.siteID, "last_data_at": localTime(last, zone: zone),
                               "silent_for": AlertDuration.text((silent / 3600).rounded(.down) * 3600),
                               "period": row.lastDay?.description ?? ""]
            if let district = row.district, !district.isEmpty { annotations["district"] = district }
            var identity = ["feed_kind": row.feedKind.rawValue, "site_kind": row.siteKind, "site_id": row.siteID]
            if let parent = row.parentID, !parent.isEmpty { identity["parent_id"] = parent }
            candidates.append(AlertCandidate(rule: rule.name, identity: identity, annotations: annotations,
                                             value: silent / 3600, target: cadence / 3600))
        }
        for row in try await tx.feedFreshness() {
            guard let cadence = rule.cadence[row.feedKind], let received = row.lastReceivedAt else { continue }
            let silent = now.timeIntervalSince(received)
            guard silent > cadence else { continue }
            let kind = row.feedKind.rawValue
            candidates.append(AlertCandidate(
                rule: rule.name, identity: ["feed_kind": kind, "site_kind": "feed", "site_id": kind],
                annotations: ["site_name": "\(kind) feed", "last_data_at": localTime(received, zone: zone),
                              "silent_for": AlertDuration.text((silent / 3600).rounded(.down) * 3600)],
                value: silent / 3600, target: cadence / 3600))
        }
        return candidates
    }

    private static func dataQuality(_ rule: AlertRule, _ tx: AlertTransaction) async throws -> [AlertCandidate] {
        try await tx.latestUploadQuality().compactMap { row in
            guard let share = row.rejectedShare?.double, share > rule.maxRejectedShare else { return nil }
            var annotations = ["upload_id": String(row.uploadID), "status": row.status.rawValue,
                               "total": String(row.rowsTotal ?? 0), "rejected": String(row.rowsRejected ?? 0),
                               "period": Timestamps.iso8601(row.receivedAt, zone: .gmt)]
            if let name = row.fileName, !name.isEmpty { annotations["file_name"] = name }
            return AlertCandidate(rule: rule.name, identity: ["feed_kind": row.kind.rawValue, "uploader": row.uploader],
                                  annotations: annotations, value: share, target: rule.maxRejectedShare)
        }
    }

    private static func deviceOffline(_ rule: AlertRule, now: Date, zone: TimeZone, _ tx: AlertTransaction) async throws -> [AlertCandidate] {
        try await tx.silentDevices(since: now.addingTimeInterval(-rule.silence)).map { device in
            let since = device.lastPacketAt ?? device.registeredAt
            let silent = now.timeIntervalSince(since)
            var annotations = ["device_name": device.name ?? device.mn, "enterprise_id": device.enterpriseID,
                               "outlet_id": device.outletID,
                               "last_packet_at": device.lastPacketAt.map { localTime($0, zone: zone) } ?? "—",
                               "silent_for": AlertDuration.text((silent / 3600).rounded(.down) * 3600)]
            annotations["period"] = localTime(since, zone: zone)
            return AlertCandidate(rule: rule.name, identity: ["mn": device.mn], annotations: annotations,
                                  value: silent / 3600, target: rule.silence / 3600)
        }
    }

    private static func valueRuns(_ rule: AlertRule, constant: Bool, zone: TimeZone, _ tx: AlertTransaction) async throws -> [AlertCandidate] {
        try await tx.valueRuns(constant: constant, minimum: rule.minConsecutive).map { run in
            var annotations = ["count": String(run.count), "since": localTime(run.since, zone: zone),
                               "last_at": localTime(run.lastAt, zone: zone), "last_value": number(run.lastValue),
                               "period": "\(localTime(run.since, zone: zone))..\(localTime(run.lastAt, zone: zone))"]
            annotations["enterprise_name"] = run.enterpriseName.flatMap { $0.isEmpty ? nil : $0 } ?? run.enterpriseID
            if let district = run.district, !district.isEmpty { annotations["district"] = district }
            return AlertCandidate(
                rule: rule.name,
                identity: ["enterprise_id": run.enterpriseID, "outlet_id": run.outletID, "pollutant": run.pollutant],
                annotations: annotations, value: Double(run.count), target: Double(rule.minConsecutive))
        }
    }

    // MARK: - Helpers

    static func number(_ value: Double?) -> String {
        guard let value else { return "—" }
        return AlertMetricName.decimal(value, places: 2)
    }

    static func localDay(_ date: Date, zone: TimeZone) -> CivilDate {
        let seconds = Int(date.timeIntervalSince1970.rounded(.down)) + zone.secondsFromGMT(for: date)
        return CivilDate(dayNumber: CivilCalendar.floorDivide(seconds, by: 86_400).quotient)
    }

    static func localTime(_ date: Date, zone: TimeZone) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        return String(format: "%04d-%02d-%02d %02d:%02d", c.year ?? 1970, c.month ?? 1, c.day ?? 1, c.hour ?? 0, c.minute ?? 0)
    }
}
