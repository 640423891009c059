public import EnvMonDomain
public import Foundation
import Mustache

/// The pages behind the console's navigation: uploads (with the upload form), one upload, and
/// open alerts. Each is rendered inside the shared header (`header.mustache`).
extension ConsoleView {
    /// Who is signed in, for the header and the forms.
    public struct Viewer: Sendable {
        public var user: ConsoleUser
        public var csrfToken: String

        public init(user: ConsoleUser, csrfToken: String) {
            self.user = user
            self.csrfToken = csrfToken
        }
    }

    /// The pages of the navigation bar, in order.
    public enum Page: String, CaseIterable, Sendable {
        case overview = "/", alerts = "/alerts", uploads = "/uploads", enterprises = "/enterprises", water = "/water"
        case sites = "/sites", devices = "/devices"

        func label(_ en: Bool) -> String {
            switch self {
            case .overview: en ? "Overview" : "总览"
            case .alerts: en ? "Alerts" : "预警"
            case .uploads: en ? "Uploads" : "数据上报"
            case .enterprises: en ? "Key enterprises" : "重点企业"
            case .water: en ? "Water sections" : "水质断面"
            case .sites: en ? "Data completeness" : "数据完整性"
            case .devices: en ? "Online monitoring" : "在线监测"
            }
        }
    }

    /// The values every page's header needs.
    func chrome(_ lang: Language, _ viewer: Viewer, current: Page, title: String) -> [String: Any] {
        let en = lang == .english
        return [
            "lang": lang.rawValue, "csrfToken": viewer.csrfToken, "title": "\(title) · envmon",
            "brand": en ? "Environmental monitoring" : "环境监测平台",
            "userName": viewer.user.name, "roleLabel": Self.role(viewer.user.role, en), "signOut": en ? "Sign out" : "退出",
            "nav": Page.allCases.map { page -> [String: Any] in
                ["href": page.rawValue, "label": page.label(en), "current": page == current]
            },
        ]
    }

    // MARK: Uploads

    static func statusLabel(_ status: UploadStatus, _ en: Bool) -> String {
        switch status {
        case .received: en ? "received" : "已接收"
        case .queued: en ? "queued" : "排队中"
        case .processing: en ? "loading" : "入库中"
        case .loaded: en ? "loaded" : "已入库"
        case .failed: en ? "failed" : "失败"
        case .duplicate: en ? "duplicate" : "重复上报"
        case .reverted: en ? "reverted" : "已撤销"
        }
    }

    static func kindLabel(_ kind: FeedKind, _ en: Bool) -> String {
        switch kind {
        case .emissions: en ? "emissions" : "重点企业排放"
        case .sewage: en ? "sewage" : "污水处理"
        case .water: en ? "surface water" : "地表水水质"
        case .green: en ? "green coverage" : "绿化"
        case .waste: en ? "domestic waste" : "生活垃圾"
        case .permits: en ? "discharge permits" : "排污许可"
        }
    }

    static func time(_ date: Date, _ zone: TimeZone) -> String {
        let seconds = Int(date.timeIntervalSince1970) + zone.secondsFromGMT(for: date)
        let (days, rest) = (seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400, ((seconds % 86_400) + 86_400) % 86_400)
        let date = CivilDate(dayNumber: days)
        return "\(date) \(String(format: "%02d:%02d", rest / 3_600, rest % 3_600 / 60))"
    }

    /// 数据上报: the upload form (for uploaders and admins) and the latest uploads.
    public func uploads(_ lang: Language, _ viewer: Viewer, uploads: [UploadRecord], zone: TimeZone) -> String {
        let en = lang == .english
        var page = chrome(lang, viewer, current: .uploads, title: en ? "Uploads" : "数据上报")
        page["heading"] = en ? "Uploads" : "数据上报"
        if viewer.user.role != .viewer {
            page["form"] = [
                "legend": en ? "Upload a feed" : "上报数据文件",
                "kindLabel": en ? "Kind" : "数据类型", "fileLabel": en ? "File" : "文件",
                "drop": en ? "or drop a file here (.xlsx, .csv, .json)" : "或将文件拖到此处（.xlsx、.csv、.json）",
                "submit": en ? "Upload" : "上传",
                "kinds": FeedKind.allCases.map { ["value": $0.rawValue, "label": Self.kindLabel($0, en)] },
                "msgSending": en ? "Sending…" : "正在上传…",
                "msgQueued": en ? "Received; loading…" : "已接收，正在入库…",
                "msgLoaded": en ? "Loaded" : "已入库", "msgFailed": en ? "Failed" : "失败",
                "msgDuplicate": en ? "Duplicate of an earlier upload" : "与此前上报的文件相同",
                "msgError": en ? "The upload did not go through" : "上传未成功",
                "msgView": en ? "details" : "查看详情",
                "msgRows": en ? "{loaded} rows loaded, {rejected} rejected" : "入库 {loaded} 行，拒收 {rejected} 行",
                // Minutes east of UTC: the script shows times in the feed time zone, as the page does.
                "zoneOffset": "\(zone.secondsFromGMT() / 60)",
            ] as [String: Any]
        }
        page["columns"] = en ? ["No.", "Kind", "File", "Uploader", "Received", "Status", "Loaded", "Rejected"]
            : ["编号", "类型", "文件", "上报人", "接收时间", "状态", "入库行数", "拒收行数"]
        page["rows"] = uploads.map { upload -> [String: Any] in
            [
                "id": "\(upload.id)", "kind": Self.kindLabel(upload.kind, en), "file": upload.fileName ?? "—",
                "uploader": upload.uploader, "received": Self.time(upload.receivedAt, zone),
                "status": Self.statusLabel(upload.status, en), "statusClass": upload.status.rawValue,
                "loaded": upload.rowsLoaded.map(String.init) ?? "—", "rejected": upload.rowsRejected.map(String.init) ?? "—",
            ]
        }
        page["empty"] = en ? "No uploads yet." : "尚无上报。"
        return library.render(page, withTemplate: "uploads") ?? ""
    }

    /// One upload: its counts and outcome, and a page of its rejected rows.
    public func upload(_ lang: Language, _ viewer: Viewer, upload: UploadRecord, rejections: [Rejection],
                       page number: Int, pageSize: Int, zone: TimeZone) -> String {
        let en = lang == .english
        var page = chrome(lang, viewer, current: .uploads, title: en ? "Upload \(upload.id)" : "上报 \(upload.id)")
        page["heading"] = (en ? "Upload " : "上报 ") + "\(upload.id) · " + (upload.fileName ?? "")
        page["back"] = en ? "All uploads" : "全部上报"
        let count = { (value: Int?) in value.map(String.init) ?? "—" }
        page["facts"] = [
            [en ? "Kind" : "类型", Self.kindLabel(upload.kind, en)],
            [en ? "Status" : "状态", Self.statusLabel(upload.status, en)],
            [en ? "Uploader" : "上报人", upload.uploader],
            [en ? "Received" : "接收时间", Self.time(upload.receivedAt, zone)],
            [en ? "Rows" : "总行数", count(upload.rowsTotal)],
            [en ? "Loaded" : "入库", count(upload.rowsLoaded)],
            [en ? "Unchanged" : "未变化", count(upload.rowsUnchanged)],
            [en ? "Superseded" : "更正", count(upload.rowsSuperseded)],
            [en ? "Rejected" : "拒收", count(upload.rowsRejected)],
            [en ? "Skipped (totals)" : "跳过（合计行）", count(upload.rowsSkipped)],
            ["SHA-256", upload.sha256],
        ].map { ["name": $0[0], "value": $0[1]] }
        if let error = upload.error { page["error"] = error }
        page["original"] = "/v1/uploads/\(upload.id)/file"
        page["originalLabel"] = en ? "Download the original file (exact bytes received)" : "下载原始文件（按接收时的原样）"
        if viewer.user.role == .admin && upload.status == .loaded {
            let rows = (upload.rowsLoaded ?? 0) + (upload.rowsSuperseded ?? 0)
            page["revert"] = [
                "id": "\(upload.id)", "ask": en ? "Revert this upload…" : "撤销本次上报…",
                "question": en ? "Remove the \(rows) rows this upload loaded or changed and restore the values it replaced? The file stays in the archive, marked reverted."
                    : "确认撤销？本次上报入库或更正的 \(rows) 行将被删除，被其更正的数值将恢复；原始文件仍保留在档案中，标记为已撤销。",
                "yes": en ? "Revert" : "确认撤销", "no": en ? "Cancel" : "取消",
                "failed": en ? "The revert did not go through: " : "撤销未成功：",
            ]
        }
        page["statusClass"] = upload.status.rawValue
        page["rejectionsHeading"] = en ? "Rejected rows" : "拒收的行"
        page["columns"] = en ? ["Line", "Column", "Value", "Reason"] : ["行", "列", "值", "原因"]
        page["rows"] = rejections.prefix(pageSize).map { rejection -> [String: Any] in
            ["line": "\(rejection.line)", "column": rejection.column ?? "—", "value": rejection.value ?? "",
             "reason": rejection.reason]
        }
        page["none"] = en ? "No row was rejected." : "没有被拒收的行。"
        page["csv"] = "/v1/uploads/\(upload.id)/rejections?format=csv"
        page["csvLabel"] = en ? "Download all as CSV" : "全部下载（CSV）"
        if number > 1 { page["previous"] = ["href": "/uploads/\(upload.id)?page=\(number - 1)", "label": en ? "Previous" : "上一页"] }
        if rejections.count > pageSize {
            page["next"] = ["href": "/uploads/\(upload.id)?page=\(number + 1)", "label": en ? "Next" : "下一页"]
        }
        page["pageLabel"] = en ? "Page \(number)" : "第 \(number) 页"
        return library.render(page, withTemplate: "upload") ?? ""
    }

    // MARK: Alerts

    static func severityLabel(_ severity: AlertSeverity, _ en: Bool) -> String {
        switch severity {
        case .critical: en ? "critical" : "严重"
        case .warning: en ? "warning" : "警告"
        case .info: en ? "info" : "提示"
        }
    }

    /// 预警: open alerts, most severe first, each linked to its history, with an acknowledge form
    /// for uploaders and admins; the active silences, and (admins) a form to add one.
    public func alerts(_ lang: Language, _ viewer: Viewer, alerts: [AlertState], silences: [SilenceRecord], zone: TimeZone) -> String {
        let en = lang == .english
        var page = chrome(lang, viewer, current: .alerts, title: en ? "Alerts" : "预警")
        page["heading"] = en ? "Open alerts" : "未关闭的预警"
        page["columns"] = en ? ["Severity", "Rule", "Summary", "Since", "State", "Owner · notified", "Acknowledged"]
            : ["级别", "规则", "摘要", "开始时间", "状态", "负责人 · 已通知", "确认"]
        let order: [AlertSeverity: Int] = [.critical: 0, .warning: 1, .info: 2]
        let canAcknowledge = viewer.user.role != .viewer
        page["rows"] = alerts.sorted { (order[$0.severity] ?? 3, $0.rule, $0.activeSince) < (order[$1.severity] ?? 3, $1.rule, $1.activeSince) }
            .map { alert -> [String: Any] in
                let owner = alert.labels["owner"] ?? alert.labels["team"] ?? "—"
                let notified = alert.lastNotifiedAt.keys.sorted().joined(separator: ", ")
                var row: [String: Any] = [
                    "id": "\(alert.id ?? 0)", "severity": Self.severityLabel(alert.severity, en),
                    "severityClass": alert.severity.rawValue, "rule": alert.rule,
                    "summary": alert.annotations["summary"] ?? "", "since": Self.time(alert.activeSince, zone),
                    "state": alert.state == .firing ? (en ? "firing" : "告警中") : (en ? "pending" : "待定"),
                    "route": notified.isEmpty ? owner : owner == "—" ? notified : "\(owner) · \(notified)",
                ]
                if let by = alert.ackedBy {
                    row["acked"] = "\(by) · \(alert.ackedAt.map { Self.time($0, zone) } ?? "")" + (alert.ackNote.map { " · \($0)" } ?? "")
                } else if canAcknowledge {
                    row["ackForm"] = ["note": en ? "Note" : "备注", "submit": en ? "Acknowledge" : "确认"]
                }
                return row
            }
        page["empty"] = en ? "No open alert." : "当前没有未关闭的预警。"
        page["silencesHeading"] = en ? "Silences (notifications muted, alerts still evaluated)" : "静默（暂停通知，预警照常评估）"
        page["silenceColumns"] = en ? ["No.", "Matchers", "Until", "By", "Reason", ""] : ["编号", "匹配条件", "截止", "设置人", "原因", ""]
        let admin = viewer.user.role == .admin
        page["silences"] = silences.map { silence -> [String: Any] in
            var row: [String: Any] = [
                "id": "\(silence.id)", "matchers": silence.matchers.joined(separator: " "), "until": Self.time(silence.endsAt, zone),
                "author": silence.author, "reason": silence.reason,
            ]
            if admin { row["expire"] = en ? "End now" : "立即结束" }
            return row
        }
        page["noSilence"] = en ? "No active silence." : "当前没有静默。"
        if admin {
            page["silenceForm"] = [
                "legend": en ? "Add a silence" : "新增静默",
                "matchersLabel": en ? "Matchers (one per line, e.g. rule=\"FeedMissing\" or site_id=\"WWTP01\")"
                    : "匹配条件（每行一条，如 rule=\"FeedMissing\" 或 site_id=\"WWTP01\"）",
                "durationLabel": en ? "For" : "时长",
                "durations": [("2h", en ? "2 hours" : "2 小时"), ("8h", en ? "8 hours" : "8 小时"), ("1d", en ? "1 day" : "1 天"),
                              ("3d", en ? "3 days" : "3 天"), ("7d", en ? "7 days" : "7 天")].map { ["value": $0.0, "label": $0.1] },
                "reasonLabel": en ? "Reason" : "原因", "submit": en ? "Add silence" : "添加静默",
            ] as [String: Any]
        }
        return library.render(page, withTemplate: "alerts") ?? ""
    }

    static func phaseLabel(_ phase: AlertPhase, _ en: Bool) -> String {
        switch phase {
        case .pending: en ? "pending" : "待定"
        case .firing: en ? "firing" : "告警中"
        case .resolved: en ? "resolved" : "已恢复"
        case .cancelled: en ? "cancelled" : "已取消"
        }
    }

    static func eventLabel(_ event: AlertEventKind, _ en: Bool) -> String {
        switch event {
        case .pending: en ? "pending" : "进入待定"
        case .firing: en ? "firing" : "开始告警"
        case .resolved: en ? "resolved" : "已恢复"
        case .cancelled: en ? "cancelled" : "已取消"
        case .acknowledged: en ? "acknowledged" : "已确认"
        case .notified: en ? "notified" : "已通知"
        case .escalated: en ? "escalated" : "已升级通知"
        }
    }

    /// 预警 › one alert: its labels and annotations, and the timeline of its transitions,
    /// acknowledgements and notifications, oldest first.
    public func alert(_ lang: Language, _ viewer: Viewer, alert: AlertState, events: [AlertEventRecord], zone: TimeZone) -> String {
        let en = lang == .english
        var page = chrome(lang, viewer, current: .alerts, title: (en ? "Alert " : "预警 ") + "\(alert.id ?? 0)")
        page["back"] = en ? "Open alerts" : "未关闭的预警"
        page["heading"] = "\(alert.rule) · #\(alert.id ?? 0)"
        page["summary"] = alert.annotations["summary"] ?? ""
        page["description"] = alert.annotations["description"] ?? ""
        page["facts"] = ([
            [en ? "Severity" : "级别", Self.severityLabel(alert.severity, en)],
            [en ? "State" : "状态", Self.phaseLabel(alert.state, en)],
            [en ? "Since" : "开始时间", Self.time(alert.activeSince, zone)],
            [en ? "Resolved" : "恢复时间", alert.resolvedAt.map { Self.time($0, zone) } ?? "—"],
        ] + alert.labels.sorted { $0.key < $1.key }.map { [$0.key, $0.value] }).map { ["name": $0[0], "value": $0[1]] }
        page["timelineHeading"] = en ? "History" : "历史记录"
        page["events"] = events.map { event -> [String: Any] in
            let transition = event.fromState.map { from in
                "\(Self.phaseLabel(from, en)) → \(event.toState.map { Self.phaseLabel($0, en) } ?? "")"
            } ?? ""
            let details = event.details.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "; ")
            var row: [String: Any] = ["at": Self.time(event.at, zone), "event": Self.eventLabel(event.event, en),
                                      "eventClass": event.event.rawValue, "transition": transition]
            if let actor = event.actor, !actor.isEmpty { row["actor"] = actor }
            if !details.isEmpty { row["details"] = details }
            return row
        }
        page["noEvents"] = en ? "No recorded events." : "没有记录。"
        return library.render(page, withTemplate: "alert") ?? ""
    }

    // MARK: Data completeness and water

    /// 数据完整性: each place's latest data, the silent ones first; overdue when its feed's
    /// usual cadence (`AlertRule.defaultCadence`) has passed since.
    public func sites(_ lang: Language, _ viewer: Viewer, sites: [SiteFreshnessRow], now: Date, zone: TimeZone) -> String {
        let en = lang == .english
        var page = chrome(lang, viewer, current: .sites, title: en ? "Data completeness" : "数据完整性")
        page["heading"] = en ? "Data completeness: the latest data of each place" : "数据完整性：各点位最近一次数据"
        page["columns"] = en ? ["Feed", "Place", "Name", "Sub-district", "Latest data", "State"]
            : ["数据类型", "点位编码", "名称", "街道", "最近数据", "状态"]
        var overdue = 0
        page["rows"] = sites.map { site -> [String: Any] in
            let cadence = AlertRule.defaultCadence[site.feedKind]
            let late = site.lastDataAt.map { date in cadence.map { now.timeIntervalSince(date) > $0 } ?? false } ?? true
            if late { overdue += 1 }
            return [
                "kind": Self.kindLabel(site.feedKind, en), "id": site.siteID, "name": site.siteName ?? "—",
                "district": site.district ?? "—", "last": site.lastDataAt.map { Self.time($0, zone) } ?? (en ? "never" : "从未上报"),
                "state": late ? (en ? "overdue" : "逾期") : (en ? "on time" : "正常"), "stateClass": late ? "missed" : "met",
            ]
        }
        page["summary"] = en ? "\(overdue) of \(sites.count) places overdue" : "共 \(sites.count) 个点位，\(overdue) 个逾期"
        page["empty"] = en ? "No place has reported yet." : "尚无点位上报数据。"
        return library.render(page, withTemplate: "sites") ?? ""
    }

    /// 水质断面: sections × months, each cell its GB 3838 class in the class's colour, the
    /// reported class beside it when they differ.
    public func water(_ lang: Language, _ viewer: Viewer, classes: [SectionClassRow], months: [String]) -> String {
        let en = lang == .english
        var page = chrome(lang, viewer, current: .water, title: en ? "Water sections" : "水质断面")
        page["heading"] = en ? "Surface water sections by month (GB 3838-2002)" : "地表水断面逐月水质类别（GB 3838-2002）"
        page["sectionLabel"] = en ? "Section" : "断面"
        page["riverLabel"] = en ? "River" : "河流"
        page["months"] = months
        var bySection: [String: [String: SectionClassRow]] = [:]
        var names: [String: SectionClassRow] = [:]
        for row in classes {
            bySection[row.sectionID, default: [:]][row.period] = row
            names[row.sectionID] = names[row.sectionID] ?? row
        }
        page["goalLabel"] = en ? "Goal" : "目标"
        page["differLabel"] = en ? "Reported ≠ computed" : "上报不符"
        page["rows"] = bySection.keys.sorted().map { id -> [String: Any] in
            let first = names[id]
            // The plan's goal for second-level river sections: class Ⅴ or better.
            let goal: Int? = bySection[id]?.values.contains { $0.riverLevel == 2 } == true ? 5 : nil
            let differing = bySection[id]?.values.filter { row in
                months.contains(row.period) && row.reportedClass != nil && row.waterClass != nil && row.reportedClass != row.waterClass
            }.count ?? 0
            return [
                "section": first?.sectionName ?? id, "id": id, "href": "/water/\(Self.segment(id))", "river": first?.river ?? "—",
                "goal": goal.map { (en ? "class " : "") + Self.classLabel($0) + (en ? " or better" : "类及以上") } ?? "—",
                "differing": differing > 0 ? "\(differing)" : "—",
                "cells": months.map { month -> [String: Any] in
                    guard let row = bySection[id]?[month], let waterClass = row.waterClass else {
                        return ["label": "", "cellClass": "none"]
                    }
                    var cell: [String: Any] = ["label": row.classLabel ?? "\(waterClass)",
                                               "cellClass": "class\(waterClass)" + (goal.map { waterClass > $0 ? " below-goal" : "" } ?? "")]
                    if let items = row.decidingItems, !items.isEmpty { cell["title"] = items.joined(separator: ", ") }
                    if let reported = row.reportedClass, reported != waterClass {
                        cell["reported"] = en ? "reported \(Self.classLabel(reported))" : "上报\(Self.classLabel(reported))"
                    }
                    return cell
                },
            ]
        }
        page["legend"] = (1...6).map { ["label": Self.classLabel($0), "cellClass": "class\($0)"] }
        page["empty"] = en ? "No section has samples in these months." : "这些月份没有断面监测数据。"
        page["note"] = en ? "A cell names the class computed from the month's means; where the feed reported another, it is shown beneath (analytics.water_class_discrepancies lists them). Second-level river sections have the plan's goal, class Ⅴ or better; a month worse than its goal is outlined."
            : "单元格为按月均值计算的类别；与上报类别不一致时在其下注明上报类别（详见 analytics.water_class_discrepancies）。二级河道断面的目标为三年行动计划的Ⅴ类及以上；劣于目标的月份加框标出。"
        return library.render(page, withTemplate: "water") ?? ""
    }

    static func classLabel(_ waterClass: Int) -> String {
        ["Ⅰ", "Ⅱ", "Ⅲ", "Ⅳ", "Ⅴ", "劣Ⅴ"][max(0, min(5, waterClass - 1))]
    }

    /// 重点企业: key enterprises × the last 12 months: stably compliant, not (with the first
    /// breach on hover), or not judged (insufficient days only).
    public func enterprises(_ lang: Language, _ viewer: Viewer, rows: [EnterpriseComplianceRow], months: [String]) -> String {
        let en = lang == .english
        var page = chrome(lang, viewer, current: .enterprises, title: en ? "Key enterprises" : "重点企业")
        page["heading"] = en ? "Key enterprises: emissions compliance by month" : "重点企业：逐月排放稳定达标情况"
        page["enterpriseLabel"] = en ? "Enterprise" : "企业"
        page["districtLabel"] = en ? "Sub-district" : "街道"
        page["months"] = months
        var byEnterprise: [String: [String: EnterpriseComplianceRow]] = [:]
        var first: [String: EnterpriseComplianceRow] = [:]
        for row in rows {
            byEnterprise[row.enterpriseID, default: [:]][row.period] = row
            first[row.enterpriseID] = first[row.enterpriseID] ?? row
        }
        page["rows"] = byEnterprise.keys.sorted().map { id -> [String: Any] in
            [
                "name": first[id]?.enterpriseName ?? id, "id": id, "href": "/enterprises/\(Self.segment(id))",
                "district": first[id]?.district ?? "—",
                "cells": months.map { month -> [String: Any] in
                    guard let row = byEnterprise[id]?[month] else { return ["label": "", "cellClass": "none"] }
                    var cell: [String: Any]
                    switch row.compliant {
                    case true?: cell = ["label": en ? "met" : "达标", "cellClass": "met"]
                    case false?:
                        cell = ["label": en ? "breach" : "超标", "cellClass": "missed"]
                        cell["title"] = [row.firstFailingDay?.description, row.firstFailingPollutant].compactMap { $0 }
                            .joined(separator: " ")
                    case nil: cell = ["label": en ? "not judged" : "未判定", "cellClass": "no_data"]
                    }
                    cell["days"] = "\(row.compliantDays)/\(row.reportingDays)"
                    if row.insufficientDays > 0 {
                        cell["insufficient"] = en ? "\(row.insufficientDays) short" : "\(row.insufficientDays) 天数据不足"
                    }
                    return cell
                },
            ]
        }
        page["empty"] = en ? "No enterprise has judged days in these months." : "这些月份没有重点企业的判定数据。"
        page["note"] = en
            ? "Compliant days / judged days under each month; a day is judged on the permit's limit and, for flue gas, the O2-corrected mean; automatic monitoring needs 20 valid hours."
            : "月份下方为达标天数/判定天数；按许可限值判定，烟气按折算浓度；自动监测日有效小时数不足 20 的不参与判定。"
        return library.render(page, withTemplate: "enterprises") ?? ""
    }
}

// MARK: One enterprise, one section

extension ConsoleView {
    /// A path segment for an id (enterprise, section): percent-encoded.
    static func segment(_ id: String) -> String {
        id.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? id
    }

    static func number(_ value: Double?) -> String {
        guard let value else { return "—" }
        let places = abs(value) >= 100 ? 1 : abs(value) >= 1 ? 2 : 3
        return AlertMetricName.decimal(value, places: places)
    }

    /// 重点企业 › one enterprise: each outlet's pollutants, daily means against the limit over the
    /// last `days` days (the chart, and its numbers in a table under it), and the exceedance days.
    public func enterprise(_ lang: Language, _ viewer: Viewer, id: String, points: [EmissionDayPoint], days: Int) -> String {
        let en = lang == .english
        let name = points.lazy.compactMap(\.enterpriseName).first ?? id
        var page = chrome(lang, viewer, current: .enterprises, title: name)
        page["back"] = en ? "All key enterprises" : "全部重点企业"
        page["heading"] = "\(name) · \(id)"
        page["district"] = points.lazy.compactMap(\.district).first ?? ""
        page["range"] = en ? "Daily means of the last \(days) days; the dashed line is the limit, red points are over it."
            : "近 \(days) 天日均值；虚线为排放限值，红点为超标日。"
        let series = Dictionary(grouping: points) { "\($0.outletID)\u{1F}\($0.pollutant)" }
        page["series"] = series.keys.sorted().compactMap { key -> [String: Any]? in
            guard let days = series[key], let first = days.first else { return nil }
            let limit = days.last(where: { $0.limitMax != nil })?.limitMax
            let judged = days.filter { $0.mean != nil }
            let title = "\(first.outletID) · \(first.pollutant)"
            let chart = LineChart(
                title: title,
                description: en ? "\(judged.count) days with a daily mean; limit \(Self.number(limit))"
                    : "\(judged.count) 天有日均值；限值 \(Self.number(limit))",
                points: judged.compactMap { day in
                    day.mean.map { .init(x: Double(day.day.dayNumber), y: $0, label: day.day.description, marked: day.compliant == false) }
                },
                reference: limit.map { ($0, (en ? "limit " : "限值 ") + Self.number($0)) },
                format: { Self.number($0) })
            return [
                "title": title, "svg": chart.svg(),
                "over": "\(days.filter { $0.compliant == false }.count)",
                "rows": judged.reversed().map { day -> [String: Any] in
                    ["day": day.day.description, "mean": Self.number(day.mean), "limit": Self.number(day.limitMax ?? day.limitMin),
                     "state": day.compliant == false ? (en ? "over" : "超标") : day.compliant == true ? (en ? "within" : "达标")
                         : (day.unjudgedReason.map { (en ? "not judged: " : "未判定：") + $0 } ?? "—"),
                     "stateClass": day.compliant == false ? "missed" : day.compliant == true ? "met" : "no_data"]
                },
            ]
        }
        page["overLabel"] = en ? "days over the limit" : "超标天数"
        page["tableLabel"] = en ? "Daily means (newest first)" : "逐日均值（最新在前）"
        page["dayColumns"] = en ? ["Day", "Daily mean", "Limit", "Judgement"] : ["日期", "日均值", "限值", "判定"]
        page["exceedHeading"] = en ? "Days over the limit" : "超标日"
        page["exceedColumns"] = en ? ["Day", "Outlet", "Pollutant", "Daily mean", "Limit", "Over by"]
            : ["日期", "排放口", "污染物", "日均值", "限值", "超标倍数"]
        page["exceedances"] = points.filter { $0.compliant == false }.sorted { $0.day > $1.day }.map { day -> [String: Any] in
            let limit = day.limitMax ?? day.limitMin
            var over: String?
            if let mean = day.mean, let limit, limit > 0 { over = AlertMetricName.decimal(mean / limit - 1, places: 2) }
            return ["day": day.day.description, "outlet": day.outletID, "pollutant": day.pollutant, "mean": Self.number(day.mean),
                    "limit": Self.number(limit), "over": over ?? "—"]
        }
        page["noExceedance"] = en ? "No day over the limit in this period." : "此期间没有超标日。"
        page["empty"] = en ? "No daily means in this period." : "此期间没有日均值数据。"
        return library.render(page, withTemplate: "enterprise") ?? ""
    }

    /// 水质断面 › one section: each parameter's values over time against the class Ⅴ bound, and
    /// the samples with their computed and reported classes.
    public func section(_ lang: Language, _ viewer: Viewer, id: String, samples: [SectionSample], bounds: [WaterItemBound]) -> String {
        let en = lang == .english
        let latest = samples.last
        let name = latest?.sectionName ?? id
        var page = chrome(lang, viewer, current: .water, title: name)
        page["back"] = en ? "All sections" : "全部断面"
        page["heading"] = "\(name) · \(id)"
        page["facts"] = [
            [en ? "River" : "河流", latest?.river ?? "—"], [en ? "Sub-district" : "街道", latest?.district ?? "—"],
            [en ? "Samples" : "样本数", "\(samples.count)"],
            [en ? "Latest class" : "最新水质类别", latest?.classLabel ?? "—"],
        ].map { ["name": $0[0], "value": $0[1]] }
        let present = bounds.filter { bound in samples.contains { $0.items[bound.itemID] != nil } }
        page["charts"] = present.map { bound -> [String: Any] in
            let title = (en ? bound.english : bound.chinese) + (bound.unit.map { " (\($0))" } ?? "")
            let line = bound.upper ?? bound.lower
            let chart = LineChart(
                title: title,
                description: en ? "Class Ⅴ bound \(Self.number(line))" : "Ⅴ类限值 \(Self.number(line))",
                points: samples.compactMap { sample in
                    sample.items[bound.itemID].map { value in
                        let over = bound.upper.map { value > $0 } ?? bound.lower.map { value < $0 } ?? false
                        return .init(x: Double(sample.day.dayNumber), y: value, label: sample.day.description, marked: over)
                    }
                },
                reference: line.map { ($0, (en ? "class Ⅴ " : "Ⅴ类 ") + Self.number($0)) },
                format: { Self.number($0) })
            return ["title": title, "svg": chart.svg()]
        }
        page["columns"] = [en ? "Day" : "采样日期", en ? "Class" : "水质类别", en ? "Reported" : "上报类别"]
            + present.map { en ? $0.english : $0.chinese }
        page["rows"] = samples.reversed().map { sample -> [String: Any] in
            let label = sample.classLabel ?? "—"
            return [
                "day": sample.day.description, "class": label,
                "classClass": WaterClassNames.cssClass(label),
                "reported": sample.reportedLabel ?? "—", "differs": sample.reportedLabel != nil && sample.reportedLabel != sample.classLabel,
                "values": present.map { ["value": Self.number(sample.items[$0.itemID])] },
            ]
        }
        page["empty"] = en ? "No samples." : "没有样本。"
        page["colspan"] = "\(present.count + 3)"
        return library.render(page, withTemplate: "section") ?? ""
    }
}

/// The CSS class of a GB 3838 class label (`class1`…`class6`, `none`).
enum WaterClassNames {
    static func cssClass(_ label: String) -> String {
        switch label {
        case "Ⅰ": "class1"
        case "Ⅱ": "class2"
        case "Ⅲ": "class3"
        case "Ⅳ": "class4"
        case "Ⅴ": "class5"
        case "劣Ⅴ": "class6"
        default: "none"
        }
    }
}

// MARK: Online monitoring

extension ConsoleView {
    static func outcomeLabel(_ outcome: String, _ en: Bool) -> String {
        if en { return outcome.replacingOccurrences(of: "_", with: " ") }
        switch outcome {
        case "stored": return "已入库"
        case "duplicate": return "重复"
        case "bad_crc": return "校验错误"
        case "unknown_device": return "未注册设备"
        case "bad_password": return "密码错误"
        case "malformed": return "格式错误"
        case "unsupported": return "不支持的命令"
        default: return outcome
        }
    }

    /// 在线监测: every data logger (HJ 212) with its state, last packet, today's packets and
    /// transmission-effective rate (analytics.device_status); the packets refused this week
    /// (analytics.hj212_packets).
    public func devices(_ lang: Language, _ viewer: Viewer, devices: [DeviceStatusRow], refused: [RefusedPacketRow], zone: TimeZone) -> String {
        let en = lang == .english
        var page = chrome(lang, viewer, current: .devices, title: en ? "Online monitoring" : "在线监测")
        page["heading"] = en ? "Online monitoring: data loggers (HJ 212-2017)" : "在线监测：数采仪（HJ 212-2017）"
        let online = devices.filter(\.online).count, active = devices.filter(\.active).count
        page["summary"] = en ? "\(online) of \(active) active loggers online (a packet within 2 h)"
            : "在用数采仪 \(active) 台，在线 \(online) 台（2 小时内有数据）"
        page["columns"] = en ? ["MN", "Name", "Enterprise", "Outlet", "State", "Last packet", "Stored today", "Duplicates", "Refused", "Valid hours / due", "Effective rate"]
            : ["设备编号 MN", "名称", "企业", "排放口", "状态", "最近数据包", "今日入库", "重复", "拒收", "有效小时/应传", "传输有效率"]
        page["rows"] = devices.map { device -> [String: Any] in
            let state = !device.active ? (en ? "retired" : "已停用") : device.online ? (en ? "online" : "在线") : (en ? "offline" : "离线")
            return [
                "mn": device.mn, "name": device.name ?? "—", "enterprise": device.enterpriseID,
                "href": "/enterprises/\(Self.segment(device.enterpriseID))", "outlet": device.outletID,
                "state": state, "stateClass": !device.active ? "no_data" : device.online ? "met" : "missed",
                "last": device.lastPacketAt.map { Self.time($0, zone) } ?? (en ? "never" : "从未"),
                "stored": "\(device.storedToday)", "duplicate": "\(device.duplicateToday)", "refused": "\(device.refusedToday)",
                "hours": "\(device.validHoursToday) / \(device.hoursDueToday)",
                "rate": device.effectiveRate.map { AlertMetricName.decimal($0 * 100, places: 1) + "%" } ?? "—",
            ]
        }
        page["empty"] = en ? "No data logger registered (envmon devices add)." : "尚未登记数采仪（envmon devices add）。"
        page["refusedHeading"] = en ? "Packets not stored in the last 7 days" : "近 7 天未入库的数据包"
        page["refusedColumns"] = en ? ["Received", "Peer", "MN", "CN", "Outcome", "Detail"] : ["接收时间", "来源", "MN", "CN", "结果", "说明"]
        page["refused"] = refused.map { packet -> [String: Any] in
            ["at": Self.time(packet.receivedAt, zone), "peer": packet.peer ?? "—", "mn": packet.mn ?? "—", "cn": packet.cn ?? "—",
             "outcome": Self.outcomeLabel(packet.outcome, en), "detail": packet.detail ?? ""]
        }
        page["noRefused"] = en ? "Every packet of the last 7 days was stored." : "近 7 天的数据包均已入库。"
        return library.render(page, withTemplate: "devices") ?? ""
    }
}
