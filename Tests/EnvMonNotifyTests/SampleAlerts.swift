import EnvMonDomain
import Foundation

/// Alerts as the evaluator would hand them over, with the Chinese texts that must arrive intact.
enum SampleAlerts {
    /// 2026-11-30 20:00:00 in Asia/Shanghai.
    static let startsAt = Date(timeIntervalSince1970: 1_796_040_000)
    /// 2026-12-01 10:30:00 in Asia/Shanghai.
    static let endsAt = Date(timeIntervalSince1970: 1_796_092_200)
    static let shanghai = TimeZone(identifier: "Asia/Shanghai") ?? .current

    static let summary = "污水集中处理率 91.2%，低于计划目标 95%"

    static let sewageMissed = AlertNotice(
        alertID: 42, fingerprint: "f3a9c1d2e4b5a6c7", rule: "sewage_target_missed", kind: .target, severity: .critical,
        status: .firing,
        labels: ["metric": "sewage_treatment_rate", "scope": "district", "period": "2026-Q3", "plant_id": "WWTP-01"],
        annotations: ["summary": summary, "description": "第三季度处理量不足 <请核查> & 上报"],
        value: 0.912, target: 0.95, startsAt: startsAt)

    static let codExceedance = AlertNotice(
        alertID: 43, fingerprint: "0b1c2d3e4f5a6b7c", rule: "emission_exceedance", kind: .exceedance, severity: .warning,
        status: .resolved,
        labels: ["metric": "emissions_compliance_rate", "enterprise_id": "E-3201", "outlet_id": "DW001", "pollutant": "COD",
                 "unit": "mg/L", "scope": "enterprise"],
        annotations: ["summary": "化学需氧量日均值超标：11-28 63.5 mg/L（限值 50）"],
        value: 63.5, target: 50, startsAt: startsAt, endsAt: endsAt)

    static func group(_ alerts: [AlertNotice] = [sewageMissed, codExceedance]) -> NotificationGroup {
        NotificationGroup(receiver: "区生态环境局", groupLabels: ["metric": "sewage_treatment_rate"], alerts: alerts)
    }
}
