public import EnvMonDomain
import Foundation
import Mustache

/// The console's pages, rendered on the server from the templates of `web/templates`
/// (embedded at build time, like `sql/`). Values are HTML-escaped by the templates; every number
/// shown is text in a table, for screen readers and for copying into reports.
public struct ConsoleView: Sendable {
    let library: MustacheLibrary

    /// Loads the embedded templates; a template that does not parse is a build defect.
    public init() throws {
        var library = MustacheLibrary()
        for (path, text) in EmbeddedResources.files where path.hasSuffix(".mustache") {
            let name = String(path.split(separator: "/").last?.dropLast(".mustache".count) ?? "")
            try library.register(text, named: name)
        }
        self.library = library
    }

    /// The stylesheet (`web/assets/console.css`).
    public static var stylesheet: String { EmbeddedResources.files["assets/console.css"] ?? "" }

    /// The script (`web/assets/console.js`): the upload form's progress and status, acknowledging.
    public static var script: String { EmbeddedResources.files["assets/console.js"] ?? "" }

    /// Chinese (`zh-CN`) unless `en`.
    public enum Language: String, Sendable {
        case chinese = "zh-CN"
        case english = "en"
    }

    /// The sign-in form, with `message` above it when there is one.
    public func login(_ lang: Language, message: String?) -> String {
        let en = lang == .english
        var page: [String: Any] = [
            "lang": lang.rawValue,
            "title": en ? "Sign in · envmon" : "登录 · envmon",
            "heading": en ? "Environmental monitoring — sign in" : "环境监测平台 — 登录",
            "userLabel": en ? "User name" : "用户名", "passwordLabel": en ? "Password" : "密码",
            "submit": en ? "Sign in" : "登录",
        ]
        if let message { page["message"] = message }
        return library.render(page, withTemplate: "login") ?? ""
    }

    /// 总览: the plan's targets against their latest values.
    public func overview(_ lang: Language, user: ConsoleUser, csrfToken: String, plan: [PlanProgressRow]) -> String {
        let en = lang == .english
        let rows: [[String: Any]] = plan.map { row in
            let name = AlertMetricName.named(row.metric)
            func show(_ number: Decimal?) -> String {
                guard let number else { return "—" }
                let value = NSDecimalNumber(decimal: number).doubleValue
                return name?.format(value) ?? AlertMetricName.decimal(value, places: 3)
            }
            return [
                "label": name.map { en ? $0.english : $0.chinese } ?? row.metric,
                "scope": row.scope == "all" ? (en ? "district" : "全区") : row.scope, "period": row.period ?? "—",
                "value": show(row.value), "target": "\(Self.symbol(row.comparator)) \(show(row.target))",
                "status": en ? row.status.rawValue.replacingOccurrences(of: "_", with: " ") : row.status.chinese,
                "statusClass": row.status.rawValue, "due": "\(row.due)", "projected": show(row.projected),
            ]
        }
        var page = chrome(lang, Viewer(user: user, csrfToken: csrfToken), current: .overview,
                          title: en ? "Overview" : "总览")
        let content: [String: Any] = [
            "heading": en ? "Overview: the three-year plan" : "总览：三年行动计划目标",
            "caption": en ? "Each target against its latest period (analytics.plan_progress)"
                : "各项目标与最近一期数值（analytics.plan_progress）",
            "columns": en ? ["Target", "Scope", "Period", "Value", "Target value", "Status", "Due", "Projected"]
                : ["指标", "范围", "期间", "当前值", "目标", "状态", "截止日期", "预测值"],
            "rows": rows, "empty": en ? "No targets yet." : "尚无目标。",
        ]
        page.merge(content) { $1 }
        return library.render(page, withTemplate: "overview") ?? ""
    }

    /// ≥, >, ≤, <, = as a reader writes them.
    static func symbol(_ comparator: EnvMonDomain.Comparator) -> String {
        switch comparator {
        case .atLeast: "≥"
        case .above: ">"
        case .atMost: "≤"
        case .below: "<"
        case .equal: "="
        }
    }

    static func role(_ role: UserRole, _ english: Bool) -> String {
        switch role {
        case .viewer: english ? "viewer" : "查看"
        case .uploader: english ? "uploader" : "上报"
        case .admin: english ? "administrator" : "管理员"
        }
    }
}
