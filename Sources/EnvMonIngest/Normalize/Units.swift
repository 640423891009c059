/// The quantity a numeric column holds, which decides the units its header may name.
enum Quantity: Sendable, Equatable {
    /// Water concentrations, canonical mg/L.
    case waterConcentration
    /// Emission readings: mg/m3 for air, mg/L for water; the row's unit column decides.
    case emissionConcentration
    /// pH: no unit.
    case dimensionless
    /// Areas, canonical hectares.
    case hectares
    /// Population, canonical persons.
    case persons
    /// Masses, canonical tonnes.
    case tonnes
    /// Volumes, canonical cubic metres.
    case cubicMetres
    /// Counts of places.
    case count
    /// A share in per cent (the reference O2 of flue gas).
    case percent
}

/// A known unit: the canonical unit it converts to and the power of ten that converts it.
/// Every conversion the feeds need is a power of ten, so values are converted exactly.
struct UnitConversion: Sendable, Equatable {
    /// The canonical unit after conversion, nil for pH.
    var canonical: String?
    /// Multiply by 10^exponent to get the canonical unit.
    var exponent: Int
}

enum Units {
    /// Units of concentration, keyed by `TextFolding.key` of the written unit.
    static let concentration: [String: UnitConversion] = [
        "mg/m3": .init(canonical: "mg/m3", exponent: 0),
        "mg/nm3": .init(canonical: "mg/m3", exponent: 0),
        "毫克/立方米": .init(canonical: "mg/m3", exponent: 0),
        "μg/m3": .init(canonical: "mg/m3", exponent: -3),
        "ug/m3": .init(canonical: "mg/m3", exponent: -3),
        "微克/立方米": .init(canonical: "mg/m3", exponent: -3),
        "g/m3": .init(canonical: "mg/m3", exponent: 3),
        "克/立方米": .init(canonical: "mg/m3", exponent: 3),
        "mg/l": .init(canonical: "mg/L", exponent: 0),
        "毫克/升": .init(canonical: "mg/L", exponent: 0),
        "μg/l": .init(canonical: "mg/L", exponent: -3),
        "ug/l": .init(canonical: "mg/L", exponent: -3),
        "微克/升": .init(canonical: "mg/L", exponent: -3),
        "ng/l": .init(canonical: "mg/L", exponent: -6),
        "g/l": .init(canonical: "mg/L", exponent: 3),
    ]

    static let dimensionless: [String: UnitConversion] = [
        "": .init(canonical: nil, exponent: 0),
        "无量纲": .init(canonical: nil, exponent: 0),
        "dimensionless": .init(canonical: nil, exponent: 0),
        "ph": .init(canonical: nil, exponent: 0),
        "无": .init(canonical: nil, exponent: 0),
    ]

    static let byQuantity: [Quantity: [String: UnitConversion]] = [
        .waterConcentration: concentration.filter { $0.value.canonical == "mg/L" },
        .emissionConcentration: concentration,
        .dimensionless: dimensionless,
        .hectares: [
            "ha": .init(canonical: "ha", exponent: 0), "公顷": .init(canonical: "ha", exponent: 0),
            "hm2": .init(canonical: "ha", exponent: 0),
            "km2": .init(canonical: "ha", exponent: 2), "平方公里": .init(canonical: "ha", exponent: 2),
            "平方千米": .init(canonical: "ha", exponent: 2),
            "m2": .init(canonical: "ha", exponent: -4), "平方米": .init(canonical: "ha", exponent: -4),
        ],
        .persons: [
            "人": .init(canonical: "persons", exponent: 0), "persons": .init(canonical: "persons", exponent: 0),
            "万人": .init(canonical: "persons", exponent: 4),
        ],
        .tonnes: [
            "t": .init(canonical: "t", exponent: 0), "吨": .init(canonical: "t", exponent: 0),
            "万吨": .init(canonical: "t", exponent: 4),
            "kg": .init(canonical: "t", exponent: -3), "千克": .init(canonical: "t", exponent: -3),
            "公斤": .init(canonical: "t", exponent: -3),
        ],
        .cubicMetres: [
            "m3": .init(canonical: "m3", exponent: 0), "立方米": .init(canonical: "m3", exponent: 0),
            // Sewage volumes are commonly reported in tonnes of water: 1 t = 1 m3.
            "吨": .init(canonical: "m3", exponent: 0), "t": .init(canonical: "m3", exponent: 0),
            "万m3": .init(canonical: "m3", exponent: 4), "万立方米": .init(canonical: "m3", exponent: 4),
            "万吨": .init(canonical: "m3", exponent: 4),
        ],
        .count: ["个": .init(canonical: nil, exponent: 0), "处": .init(canonical: nil, exponent: 0)],
        .percent: ["%": .init(canonical: "%", exponent: 0), "％": .init(canonical: "%", exponent: 0),
                   "百分比": .init(canonical: "%", exponent: 0)],
    ]

    /// The conversion for `unit` written in a header or cell of a `quantity` column, nil when unknown.
    static func conversion(_ unit: String, for quantity: Quantity) -> UnitConversion? {
        byQuantity[quantity]?[TextFolding.key(unit)]
    }
}
