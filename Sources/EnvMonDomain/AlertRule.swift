/// The kind of condition an alert rule watches (alerts/rules.yaml `kind`).
public enum AlertRuleKind: String, Sendable, Codable, CaseIterable, Hashable {
    /// A plan_progress row whose status is `missed`.
    case target
    /// A plan_progress row whose status is `at_risk`: about to be missed.
    case forecast
    /// An enterprise/outlet/pollutant with a daily mean over its limit inside the lookback window.
    case exceedance
    /// A second-level river section whose latest class is 劣Ⅴ.
    case waterClass = "water_class"
    /// A site or feed kind with no data for longer than its expected cadence.
    case missingData = "missing_data"
    /// An upload whose rejected share is over the allowed share.
    case dataQuality = "data_quality"
    /// An active HJ 212 data logger that has sent no accepted packet for longer than `silence`.
    case deviceOffline = "device_offline"
    /// An emissions series whose last `minConsecutive` valid values are equal (恒值).
    case constantValue = "constant_value"
    /// An emissions series whose last `minConsecutive` valid values are zero or negative (零值/负值).
    case zeroOrNegative = "zero_or_negative"

    /// The severity of a rule that names none: a missed target is critical, the rest warnings.
    public var defaultSeverity: AlertSeverity { self == .target ? .critical : .warning }
}

/// How urgent an alert is; routes match on it as the `severity` label.
public enum AlertSeverity: String, Sendable, Codable, CaseIterable, Hashable {
    case critical, warning, info
}

/// One alert rule as read from a rule file.
public struct AlertRule: Sendable, Equatable, Codable {
    /// The alert name; unique across all rule files.
    public var name: String
    public var kind: AlertRuleKind
    public var severity: AlertSeverity
    /// The group the rule was listed under, or nil for a flat `rules:` list.
    public var group: String?
    /// Static labels added to every alert of the rule.
    public var labels: [String: String]
    /// How long the condition must hold before the alert fires (`for`), in seconds.
    public var pendingFor: Double
    /// How long a firing alert stays firing after its condition clears (`keep_firing_for`).
    public var keepFiringFor: Double
    /// The summary template (one line), e.g. `{metric_zh}未达标：{value}`.
    public var summary: String
    /// The description template (a paragraph).
    public var description: String
    /// `exceedance`: how far back a day over its limit keeps the alert firing, in seconds.
    public var lookback: Double
    /// `missing_data`: the longest expected silence per feed kind, in seconds.
    public var cadence: [FeedKind: Double]
    /// `data_quality`: the rejected share (0…1) above which an upload raises an alert.
    public var maxRejectedShare: Double
    /// A disabled rule is parsed and checked but produces no alerts.
    public var enabled: Bool
    /// `device_offline`: the longest silence of an active data logger, in seconds.
    public var silence: Double
    /// `constant_value`, `zero_or_negative`: valid values in a row that raise the alert.
    public var minConsecutive: Int

    /// The lookback window of `exceedance` rules when a rule names none: 31 days.
    public static let defaultLookback: Double = 31 * 86_400
    /// Expected cadence of each feed kind when a `missing_data` rule names none.
    public static let defaultCadence: [FeedKind: Double] = [
        .emissions: 24 * 3_600, .sewage: 40 * 86_400, .waste: 40 * 86_400,
        .water: 45 * 86_400, .green: 400 * 86_400,
    ]
    /// Rejected share above which an upload raises a `data_quality` alert by default: 5%.
    public static let defaultMaxRejectedShare = 0.05
    /// Silence of a data logger that raises `device_offline` by default: 2 h.
    public static let defaultSilence: Double = 2 * 3_600
    /// Values in a row that raise `constant_value` and `zero_or_negative` by default: 6.
    public static let defaultMinConsecutive = 6

    public init(
        name: String, kind: AlertRuleKind, severity: AlertSeverity, group: String? = nil,
        labels: [String: String] = [:], pendingFor: Double = 0, keepFiringFor: Double = 0,
        summary: String = "", description: String = "",
        lookback: Double = AlertRule.defaultLookback,
        cadence: [FeedKind: Double] = AlertRule.defaultCadence,
        maxRejectedShare: Double = AlertRule.defaultMaxRejectedShare, enabled: Bool = true,
        silence: Double = AlertRule.defaultSilence, minConsecutive: Int = AlertRule.defaultMinConsecutive
    ) {
        self.name = name
        self.kind = kind
        self.severity = severity
        self.group = group
        self.labels = labels
        self.pendingFor = pendingFor
        self.keepFiringFor = keepFiringFor
        self.summary = summary
        self.description = description
        self.lookback = lookback
        self.cadence = cadence
        self.maxRejectedShare = maxRejectedShare
        self.enabled = enabled
        self.silence = silence
        self.minConsecutive = minConsecutive
    }
}

extension AlertRuleKind {
    /// What the bureau's staff call it.
    public var chinese: String {
        switch self {
        case .target: "计划目标未达成"
        case .forecast: "计划目标预计难以达成"
        case .exceedance: "超标排放"
        case .waterClass: "水质劣Ⅴ类"
        case .missingData: "数据缺失"
        case .dataQuality: "数据质量问题"
        case .deviceOffline: "数采仪离线"
        case .constantValue: "恒值"
        case .zeroOrNegative: "零值/负值"
        }
    }
}

extension AlertSeverity {
    /// 严重, 警告, 提示.
    public var chinese: String {
        switch self {
        case .critical: "严重"
        case .warning: "警告"
        case .info: "提示"
        }
    }
}
