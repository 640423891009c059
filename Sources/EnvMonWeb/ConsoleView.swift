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

    /// The console's icon (`web/assets/icon.svg`).
    public static var icon: String { EmbeddedResources.files["assets/icon.svg"] ?? "" }

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

    /// 总览: the plan's targets against their latest values (`plan`, analytics.plan_progress), a
    /// trend chart per target (its periods, the target line, the least-squares projection to the
    /// due date) with the numbers in a table under it, the sub-district × metric matrix, and the
    /// counts of firing alerts and overdue places.
    public func overview(_ lang: Language, _ viewer: Viewer, plan: [PlanProgressRow], points: [PlanPoint],
                         cells: [DistrictCell], counts: OverviewCounts) -> String {
        let en = lang == .english
        func name(_ metric: String) -> String {
            AlertMetricName.named(metric).map { en ? $0.english : $0.chinese } ?? metric
        }
        func show(_ metric: String, _ value: Double?) -> String {
            guard let value else { return "—" }
            return AlertMetricName.named(metric)?.format(value) ?? AlertMetricName.decimal(value, places: 3)
        }
        func decimal(_ number: Decimal?) -> Double? { number.map { NSDecimalNumber(decimal: $0).doubleValue } }
        func statusLabel(_ status: PlanStatus) -> String {
            en ? status.rawValue.replacingOccurrences(of: "_", with: " ") : status.chinese
        }
        let rows: [[String: Any]] = plan.map { row in
            [
                "label": name(row.metric),
                "scope": row.scope == "all" ? (en ? "district" : "全区") : row.scope, "period": row.period ?? "—",
                "value": show(row.metric, decimal(row.value)),
                "target": "\(Self.symbol(row.comparator)) \(show(row.metric, decimal(row.target)))",
                "status": statusLabel(row.status), "statusClass": row.status.rawValue, "due": "\(row.due)",
                "projected": show(row.metric, decimal(row.projected)),
            ]
        }
        let byMetric = Dictionary(grouping: points, by: \.metric)
        let charts: [[String: Any]] = plan.filter { $0.scope == "all" }.map { row in
            let history = Array((byMetric[row.metric] ?? []).suffix(13))
            let target = decimal(row.target) ?? 0
            var chart = LineChart(
                title: name(row.metric),
                description: en ? "\(history.count) periods; target \(Self.symbol(row.comparator)) \(show(row.metric, target)) by \(row.due)"
                    : "共 \(history.count) 期；目标 \(Self.symbol(row.comparator)) \(show(row.metric, target))，截止 \(row.due)",
                points: history.map { .init(x: $0.middle, y: $0.value, label: $0.period) },
                reference: (target, (en ? "target " : "目标 ") + show(row.metric, target)),
                format: { show(row.metric, $0) })
            // The view's fit: the last six periods, projected to the due date.
            let recent = history.suffix(6).map { (x: $0.middle, y: $0.value) }
            if row.projected != nil, let fit = LineChart.leastSquares(recent), let from = recent.first {
                let isRatio = AlertMetricName.named(row.metric)?.unit == .ratio
                func clamp(_ y: Double) -> Double { max(0, isRatio ? min(1, y) : y) }
                let due = Double(row.due.dayNumber)
                chart.projection = ((from.x, clamp(fit.intercept + fit.slope * from.x)), (due, clamp(fit.intercept + fit.slope * due)),
                                    (en ? "projected " : "预测 ") + "\(row.due)")
            }
            return [
                "label": name(row.metric), "value": show(row.metric, decimal(row.value)), "period": row.period ?? "—",
                "target": "\(Self.symbol(row.comparator)) \(show(row.metric, target))",
                "status": statusLabel(row.status), "statusClass": row.status.rawValue, "due": "\(row.due)",
                "svg": chart.svg(),
                "periods": history.map { ["period": $0.period, "value": show(row.metric, $0.value)] },
                "hasPeriods": !history.isEmpty,
            ]
        }
        // Sub-district × metric: each cell the sub-district's latest value against the district's target.
        let metrics = plan.filter { $0.scope == "all" }.map(\.metric)
        let scopes = Set(cells.map(\.scope)).sorted { a, b in
            let order = [Self.seedOrder[a] ?? Int.max, Self.seedOrder[b] ?? Int.max]
            return order[0] != order[1] ? order[0] < order[1] : a < b
        }
        let cellAt = Dictionary(cells.map { ("\($0.metric)|\($0.scope)", $0) }, uniquingKeysWith: { a, _ in a })
        let matrix: [[String: Any]] = scopes.map { scope in
            [
                "scope": scope,
                "cells": metrics.map { metric -> [String: Any] in
                    guard let cell = cellAt["\(metric)|\(scope)"] else {
                        return ["label": "—", "cellClass": "no_data", "title": en ? "no data" : "无数据"]
                    }
                    return ["label": show(metric, cell.value), "cellClass": cell.status.rawValue,
                            "title": "\(cell.period) · \(statusLabel(cell.status))"]
                },
            ]
        }
        var page = chrome(lang, viewer, current: .overview, title: en ? "Overview" : "总览")
        let content: [String: Any] = [
            "heading": en ? "Overview: the three-year plan" : "总览：三年行动计划目标",
            "alertsLine": en ? "\(counts.firing) open alerts (\(counts.critical) critical)"
                : "未关闭预警 \(counts.firing) 条（严重 \(counts.critical) 条）",
            "alertsClass": counts.critical > 0 ? "missed" : counts.firing > 0 ? "at_risk" : "met",
            "sitesLine": en ? "\(counts.overdue) of \(counts.places) places overdue" : "逾期未报点位 \(counts.overdue) / \(counts.places)",
            "sitesClass": counts.overdue > 0 ? "at_risk" : "met",
            "firing": "\(counts.firing)", "overdue": "\(counts.overdue)",
            "charts": charts,
            "periodLabel": en ? "Period" : "期间", "valueLabel": en ? "Value" : "数值",
            "caption": en ? "Each target against its latest period (analytics.plan_progress)"
                : "各项目标与最近一期数值（analytics.plan_progress）",
            "columns": en ? ["Target", "Scope", "Period", "Value", "Target value", "Status", "Due", "Projected"]
                : ["指标", "范围", "期间", "当前值", "目标", "状态", "截止日期", "预测值"],
            "rows": rows, "empty": en ? "No targets yet." : "尚无目标。",
            "matrixHeading": en ? "Sub-districts against the district's targets (latest period of each)"
                : "各街道对照全区目标（各取最近一期）",
            "districtLabel": en ? "Sub-district" : "街道",
            "metricColumns": metrics.map { metric -> [String: Any] in
                let target = plan.first { $0.metric == metric && $0.scope == "all" }
                return ["name": name(metric),
                        "target": target.map { "\(Self.symbol($0.comparator)) \(show(metric, decimal($0.target)))" } ?? ""]
            },
            "matrix": matrix, "matrixEmpty": en ? "No sub-district data yet." : "尚无街道数据。",
            "matrixColspan": "\(metrics.count + 1)",
        ]
        page.merge(content) { $1 }
        return library.render(page, withTemplate: "overview") ?? ""
    }

    /// The seed's sub-districts in the order the bureau lists them; others follow by name.
    static let seedOrder: [String: Int] = Dictionary(uniqueKeysWithValues: [
        "金钟街", "金桥街", "军粮城街", "新立街", "华明街", "无瑕街", "张贵庄街", "丰年村街",
    ].enumerated().map { ($1, $0) })

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
