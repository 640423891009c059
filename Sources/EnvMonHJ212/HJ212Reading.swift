public import Foundation

/// One pollutant's values at one time, mapped to envmon's pollutant code.
public struct HJ212Reading: Sendable, Hashable {
    /// envmon pollutant code: SO2, NOx, PM, COD, NH3N, TP, TN, pH, O2, flow, temperature, humidity.
    public var pollutant: String
    /// The HJ 212 code as sent (`a21026`, `02`, …).
    public var code: String
    /// The instant `DataTime` names.
    public var timestamp: Date
    /// `-Rtd`, real-time value.
    public var rtd: Double?
    /// `-Avg`, mean over the interval.
    public var avg: Double?
    /// `-Min`.
    public var min: Double?
    /// `-Max`.
    public var max: Double?
    /// `-Cou`, amount over the interval.
    public var cou: Double?
    /// `-ZsRtd`, O2-corrected real-time value.
    public var zsRtd: Double?
    /// `-ZsAvg`, O2-corrected mean.
    public var zsAvg: Double?
    /// `-Flag`, as sent; nil when the device sent none.
    public var flag: String?
    /// `-EFlag`, the device's own flag, as sent.
    public var deviceFlag: String?

    public init(
        pollutant: String, code: String, timestamp: Date, rtd: Double? = nil, avg: Double? = nil,
        min: Double? = nil, max: Double? = nil, cou: Double? = nil, zsRtd: Double? = nil, zsAvg: Double? = nil,
        flag: String? = nil, deviceFlag: String? = nil
    ) {
        self.pollutant = pollutant
        self.code = code
        self.timestamp = timestamp
        self.rtd = rtd
        self.avg = avg
        self.min = min
        self.max = max
        self.cou = cou
        self.zsRtd = zsRtd
        self.zsAvg = zsAvg
        self.flag = flag
        self.deviceFlag = deviceFlag
    }

    /// The data flag; nil when none was sent.
    public var dataFlag: HJ212DataFlag? { flag.map(HJ212DataFlag.init(code:)) }

    /// The interval mean, or the real-time value for real-time data.
    public var value: Double? { avg ?? rtd }

    /// Whether this is valid data: a value, and a flag of `N` (or no flag at all, which devices
    /// that do not flag send; `S` too when `acceptingManual`).
    public func isValid(acceptingManual: Bool = false) -> Bool {
        guard value != nil else { return false }
        guard let dataFlag else { return true }
        return dataFlag.isValid(acceptingManual: acceptingManual)
    }
}

/// The readings of a packet and the fields whose codes envmon does not store.
public struct HJ212ReadingSet: Sendable, Hashable {
    public var readings: [HJ212Reading]
    /// Fields whose code has no envmon pollutant, so the caller can record them.
    public var unmapped: [HJ212Field]

    public init(readings: [HJ212Reading], unmapped: [HJ212Field]) {
        self.readings = readings
        self.unmapped = unmapped
    }

    /// The distinct unmapped codes, in order.
    public var unmappedCodes: [String] {
        var seen: Set<String> = []
        return unmapped.map(\.code).filter { seen.insert($0).inserted }
    }
}

extension HJ212Packet {
    /// The packet's readings with `DataTime` read as local time in `timeZone`; fields whose codes
    /// have no envmon pollutant are left out (see `readingSet(in:codes:)` to get them).
    public func readings(in timeZone: TimeZone, codes: HJ212CodeTable = .standard) throws(HJ212ParseError)
        -> [HJ212Reading]
    {
        try readingSet(in: timeZone, codes: codes).readings
    }

    /// The packet's readings, one per mapped pollutant code in order of appearance, and the
    /// fields that could not be mapped.
    public func readingSet(in timeZone: TimeZone, codes: HJ212CodeTable = .standard) throws(HJ212ParseError)
        -> HJ212ReadingSet
    {
        let fields = self.fields
        guard !fields.isEmpty else { return HJ212ReadingSet(readings: [], unmapped: []) }
        guard let dataTime else { throw .missingDataTime }
        guard let timestamp = HJ212Time.parse(dataTime, in: timeZone) else { throw .invalidDataTime(dataTime) }

        var order: [String] = []
        var byCode: [String: [HJ212Field]] = [:]
        for field in fields {
            if byCode[field.code] == nil { order.append(field.code) }
            byCode[field.code, default: []].append(field)
        }
        var readings: [HJ212Reading] = []
        var unmapped: [HJ212Field] = []
        for code in order {
            let group = byCode[code] ?? []
            guard let pollutant = codes.canonicalCode(for: code) else {
                unmapped.append(contentsOf: group)
                continue
            }
            var reading = HJ212Reading(pollutant: pollutant, code: code, timestamp: timestamp)
            var seen: Set<String> = []
            for field in group {
                guard seen.insert(field.suffix).inserted else { throw .duplicateCPField(field.key) }
                try reading.set(field)
            }
            readings.append(reading)
        }
        return HJ212ReadingSet(readings: readings, unmapped: unmapped)
    }
}

extension HJ212Reading {
    fileprivate mutating func set(_ field: HJ212Field) throws(HJ212ParseError) {
        let numeric: WritableKeyPath<HJ212Reading, Double?>?
        switch field.suffix {
        case "Rtd": numeric = \.rtd
        case "Avg": numeric = \.avg
        case "Min": numeric = \.min
        case "Max": numeric = \.max
        case "Cou": numeric = \.cou
        case "ZsRtd": numeric = \.zsRtd
        case "ZsAvg": numeric = \.zsAvg
        case "Flag":
            flag = field.value.isEmpty ? nil : field.value
            return
        case "EFlag":
            deviceFlag = field.value.isEmpty ? nil : field.value
            return
        default:
            // SampleTime, ZsMin, Info and other fields envmon does not store.
            return
        }
        guard let numeric else { return }
        // An empty value is a missing value, not zero.
        guard !field.value.isEmpty else { return }
        guard let number = HJ212Number.parse(field.value) else {
            throw .invalidNumber(field: field.key, value: field.value)
        }
        self[keyPath: numeric] = number
    }
}
