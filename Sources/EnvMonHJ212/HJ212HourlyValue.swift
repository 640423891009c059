public import Foundation

/// Hourly values derived from minute data under HJ 75-2017: an hour needs at least 45 valid
/// minutes; its value is the mean of the valid minutes.
public enum HJ212HourlyValue {
    /// Valid minutes an hour needs (HJ 75-2017).
    public static let minimumValidMinutes = 45

    /// The hourly reading for one pollutant's minute readings, nil when fewer than
    /// `minimumValidMinutes` distinct valid minutes exist.
    ///
    /// - Parameters:
    ///   - minutes: minute readings; only those of the first reading's pollutant count, and a
    ///     minute given twice counts once (its first reading).
    ///   - hourStart: the hour's start; minutes outside `[hourStart, hourStart + 1 h)` are ignored.
    ///     When nil, the earliest valid minute's time rounded down to a whole UTC hour (right for
    ///     zones a whole number of hours from UTC, such as China's).
    ///   - oxygen: the hour's measured and reference O2; when given and usable, `zsAvg` is the
    ///     corrected mean. Otherwise `zsAvg` is the mean of the minutes' `zsAvg` when all have one.
    ///   - acceptingManual: whether `S` (manual) minutes count as valid.
    public static func derive(
        minutes: [HJ212Reading], hourStart: Date? = nil, oxygen: HJ212OxygenCorrection? = nil,
        minimumValidMinutes: Int = HJ212HourlyValue.minimumValidMinutes, acceptingManual: Bool = false
    ) -> HJ212Reading? {
        guard let pollutant = minutes.first?.pollutant else { return nil }
        var seen: Set<Date> = []
        var valid: [(reading: HJ212Reading, value: Double)] = []
        for reading in minutes where reading.pollutant == pollutant && reading.isValid(acceptingManual: acceptingManual) {
            if let hourStart, !(reading.timestamp >= hourStart && reading.timestamp < hourStart + 3600) { continue }
            guard let value = reading.value, value.isFinite, seen.insert(reading.timestamp).inserted else { continue }
            valid.append((reading, value))
        }
        guard valid.count >= Swift.max(1, minimumValidMinutes), let first = valid.first else { return nil }
        let start = hourStart ?? {
            let earliest = valid.map(\.reading.timestamp).min() ?? first.reading.timestamp
            return Date(timeIntervalSince1970: (earliest.timeIntervalSince1970 / 3600).rounded(.down) * 3600)
        }()
        let values = valid.map(\.value)
        let mean = values.reduce(0, +) / Double(values.count)
        let minimum = valid.map { $0.reading.min ?? $0.value }.min()
        let maximum = valid.map { $0.reading.max ?? $0.value }.max()
        let amounts = valid.compactMap(\.reading.cou)
        let corrected: Double?
        if let oxygen {
            corrected = oxygen.correct(mean)
        } else {
            let minuteCorrected = valid.compactMap(\.reading.zsAvg)
            corrected = minuteCorrected.count == valid.count
                ? minuteCorrected.reduce(0, +) / Double(minuteCorrected.count) : nil
        }
        return HJ212Reading(
            pollutant: pollutant, code: first.reading.code, timestamp: start, avg: mean, min: minimum, max: maximum,
            cou: amounts.isEmpty ? nil : amounts.reduce(0, +), zsAvg: corrected, flag: HJ212DataFlag.normal.code)
    }
}

/// O2 correction (折算): C_corrected = C × (21 − O2_ref) / (21 − O2_measured).
///
/// A measured O2 of 21 % or more is invalid (the flue gas is air); close to 21 % the factor grows
/// without bound, so platforms cap the measured value below 21 (`measuredLimit`).
public struct HJ212OxygenCorrection: Sendable, Hashable {
    /// Measured O2, % (e.g. the hour's mean of a19001).
    public var measured: Double
    /// Reference O2, % (6 for coal boilers, 3 for gas, 9 for waste incineration, 11 …).
    public var reference: Double
    /// Measured values at or above this are not corrected (at most 21).
    public var measuredLimit: Double

    public init(measured: Double, reference: Double, measuredLimit: Double = 21) {
        self.measured = measured
        self.reference = reference
        self.measuredLimit = Swift.min(measuredLimit, 21)
    }

    /// The factor (21 − reference) / (21 − measured); nil when either O2 is outside 0 % up to the
    /// limit (reference below 21), or a value is not finite.
    public var factor: Double? {
        guard measured.isFinite, reference.isFinite, measured >= 0, measured < measuredLimit,
            reference >= 0, reference < 21
        else { return nil }
        return (21 - reference) / (21 - measured)
    }

    /// `concentration` corrected to the reference O2; nil when the correction is not defined.
    public func correct(_ concentration: Double) -> Double? {
        factor.map { concentration * $0 }
    }
}
