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
        case sites = "/sites"

        func label(_ en: Bool) -> String {
            switch self {
            case .overview: en ? "Overview" : "总览"
            case .alerts: en ? "Alerts" : "预警"
            case .uploads: en ? "Uploads" : "数据上报"
            case .enterprises: en ? "Key enterprises" : "重点企业"
            case .water: en ? "Water sections" : "水质断面"
            case .sites: en ? "Data completeness" : "数据完整性"
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

    /// 预警: open alerts, most severe first, with an acknowledge form for uploaders and admins.
    public func alerts(_ lang: Language, _ viewer: Viewer, alerts: [AlertState], zone: TimeZone) -> String {
        let en = lang == .english
        var page = chrome(lang, viewer, current: .alerts, title: en ? "Alerts" : "预警")
        page["heading"] = en ? "Open alerts" : "未关闭的预警"
        page["columns"] = en ? ["Severity", "Rule", "Summary", "Since", "State", "Acknowledged"]
            : ["级别", "规则", "摘要", "开始时间", "状态", "确认"]
        let order: [AlertSeverity: Int] = [.critical: 0, .warning: 1, .info: 2]
        let canAcknowledge = viewer.user.role != .viewer
        page["rows"] = alerts.sorted { (order[$0.severity] ?? 3, $0.activeSince) < (order[$1.severity] ?? 3, $1.activeSince) }
            .map { alert -> [String: Any] in
                var row: [String: Any] = [
                    "id": "\(alert.id ?? 0)", "severity": Self.severityLabel(alert.severity, en),
                    "severityClass": alert.severity.rawValue, "rule": alert.rule,
                    "summary": alert.annotations["summary"] ?? "", "since": Self.time(alert.activeSince, zone),
                    "state": alert.state == .firing ? (en ? "firing" : "告警中") : (en ? "pending" : "待定"),
                ]
                if let by = alert.ackedBy {
                    row["acked"] = "\(by) · \(alert.ackedAt.map { Self.time($0, zone) } ?? "")" + (alert.ackNote.map { " · \($0)" } ?? "")
                } else if canAcknowledge {
                    row["ackForm"] = ["note": en ? "Note" : "备注", "submit": en ? "Acknowledge" : "确认"]
                }
                return row
            }
        page["empty"] = en ? "No open alert." : "当前没有未关闭的预警。"
        return library.render(page, withTemplate: "alerts") ?? ""
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
        page["rows"] = bySection.keys.sorted().map { id -> [String: Any] in
            let first = names[id]
            return [
                "section": first?.sectionName ?? id, "id": id, "river": first?.river ?? "—",
                "cells": months.map { month -> [String: Any] in
                    guard let row = bySection[id]?[month], let waterClass = row.waterClass else {
                        return ["label": "", "cellClass": "none"]
                    }
                    var cell: [String: Any] = ["label": row.classLabel ?? "\(waterClass)", "cellClass": "class\(waterClass)"]
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
        page["note"] = en ? "A cell names the class computed from the month's means; where the feed reported another, it is shown beneath."
            : "单元格为按月均值计算的类别；与上报类别不一致时在其下注明上报类别。"
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
                "name": first[id]?.enterpriseName ?? id, "id": id, "district": first[id]?.district ?? "—",
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
