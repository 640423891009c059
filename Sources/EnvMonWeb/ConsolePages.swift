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
        case overview = "/", alerts = "/alerts", uploads = "/uploads"

        func label(_ en: Bool) -> String {
            switch self {
            case .overview: en ? "Overview" : "总览"
            case .alerts: en ? "Alerts" : "预警"
            case .uploads: en ? "Uploads" : "数据上报"
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
}
