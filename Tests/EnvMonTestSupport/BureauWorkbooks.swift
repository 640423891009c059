public import Foundation

/// Workbooks laid out as bureau staff's are, written part by part by the tests themselves
/// (`WorkbookBuilder`): an instructions sheet in front, then the data sheet with a title merged
/// over its columns, a blank row, Chinese headers (one in rich text), hourly readings with date
/// cells, a number stored as text, a value that is not a number and a total row with a formula.
public enum BureauWorkbooks {
    /// Emissions of E9001/DA001, SO2 each hour of 2026-03-01 (24 readings, 20.0 + hour / 2 mg/m³;
    /// 05:00 stored as the text "22.5"), then row 28 with 仪器故障 in 监测值 (cell F28) and row 29
    /// a 合计 row. Sheets: 填报说明, 小时数据. A different `title` gives other bytes, the same rows.
    public static func emissions(title: String = "城东热电有限公司 2026年3月 废气小时监测数据") throws -> Data {
        var builder = WorkbookBuilder()
        let strings = [
            "本表按小时填报，监测值单位 mg/m³。", title, "企业编码", "企业名称", "排放口编码", "污染物", "监测时间",
            "RICH:监测值", "排放限值", "E9001", "城东热电有限公司", "DA001", "二氧化硫", "仪器故障", "合计",
        ]
        func index(_ text: String) -> Int { strings.firstIndex(of: text) ?? 0 }
        builder.rawSharedStrings = strings.map { text in
            text.hasPrefix("RICH:")
                // A header Excel wrote as rich text: two runs, the second bold.
                ? "<si><r><t>监测</t></r><r><rPr><b/></rPr><t>值</t></r></si>"
                : "<si><t>\(WorkbookBuilder.escape(text))</t></si>"
        }.joined()
        // Style 1: built-in format 22 (m/d/yy h:mm), a date and time.
        builder.cellFormats = [0, 22]
        builder.addSheet("填报说明", rows: #"<row r="1"><c r="A1" t="s"><v>0</v></c></row>"#)

        func shared(_ ref: String, _ text: String) -> String { #"<c r="\#(ref)" t="s"><v>\#(index(text))</v></c>"# }
        func number(_ ref: String, _ value: String) -> String { #"<c r="\#(ref)"><v>\#(value)</v></c>"# }
        func date(_ ref: String, day: Int, hour: Int) -> String {
            #"<c r="\#(ref)" s="1"><v>\#(excelSerial(year: 2026, month: 3, day: day, hour: hour))</v></c>"#
        }
        var rows = #"<row r="1">\#(shared("A1", title))</row>"#
        let headers = ["企业编码", "企业名称", "排放口编码", "污染物", "监测时间", "RICH:监测值", "排放限值"]
        rows += #"<row r="3">"# + zip("ABCDEFG", headers).map { shared("\($0)3", $1) }.joined() + "</row>"
        for hour in 0..<24 {
            let row = hour + 4
            let value = 20 + Double(hour) / 2
            let valueCell = hour == 5
                ? #"<c r="F\#(row)" t="inlineStr"><is><t>\#(value)</t></is></c>"#  // a number stored as text
                : number("F\(row)", "\(value)")
            rows += #"<row r="\#(row)">"# + shared("A\(row)", "E9001") + shared("B\(row)", "城东热电有限公司")
                + shared("C\(row)", "DA001") + shared("D\(row)", "二氧化硫") + date("E\(row)", day: 1, hour: hour)
                + valueCell + number("G\(row)", "35") + "</row>"
        }
        rows += #"<row r="28">"# + shared("A28", "E9001") + shared("B28", "城东热电有限公司") + shared("C28", "DA001")
            + shared("D28", "二氧化硫") + date("E28", day: 2, hour: 0) + shared("F28", "仪器故障") + number("G28", "35") + "</row>"
        rows += #"<row r="29">"# + shared("A29", "合计") + #"<c r="F29"><f>SUM(F4:F27)</f><v>618</v></c>"# + "</row>"
        builder.addSheet("小时数据", rows: rows, after: #"<mergeCells count="1"><mergeCell ref="A1:G1"/></mergeCells>"#)
        return try builder.build()
    }

    /// An Excel serial date-time (1900 date system): days since 1899-12-30, the hour as a fraction.
    public static func excelSerial(year: Int, month: Int, day: Int, hour: Int = 0) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? calendar.timeZone
        let epoch = calendar.date(from: DateComponents(year: 1899, month: 12, day: 30)) ?? Date()
        let date = calendar.date(from: DateComponents(year: year, month: month, day: day)) ?? epoch
        let days = calendar.dateComponents([.day], from: epoch, to: date).day ?? 0
        return hour == 0 ? "\(days)" : "\(Double(days) + Double(hour) / 24)"
    }

    /// An online-monitoring platform's hourly export of E9001/DA001 on 2026-03-01: a title, then
    /// a two-row header with each pollutant merged over 实测浓度 and 折算浓度 and the other columns
    /// merged over both rows, then 24 hours of SO2, NOx and 烟尘 with O2, flow and a row flag.
    /// Hour h: SO2 20 + h (折算 ×1.2), NOx 40 + h (×1.2), 烟尘 3 (×1.2), O2 10, flow 120000.
    public static func wideEmissions() throws -> Data {
        var builder = WorkbookBuilder()
        builder.cellFormats = [0, 22]
        func text(_ ref: String, _ value: String) -> String {
            #"<c r="\#(ref)" t="inlineStr"><is><t>\#(WorkbookBuilder.escape(value))</t></is></c>"#
        }
        func number(_ ref: String, _ value: String) -> String { #"<c r="\#(ref)"><v>\#(value)</v></c>"# }
        var rows = #"<row r="1">\#(text("A1", "城东热电有限公司 DA001 废气小时均值 2026-03-01"))</row>"#
        rows += #"<row r="2">"# + text("A2", "企业编码") + text("B2", "排放口编码") + text("C2", "监测时间")
            + text("D2", "二氧化硫") + text("F2", "氮氧化物") + text("H2", "烟尘") + text("J2", "氧含量(%)")
            + text("K2", "标干流量(m³/h)") + text("L2", "数据标记") + "</row>"
        rows += #"<row r="3">"# + ["D", "F", "H"].map { text("\($0)3", "实测浓度(mg/m³)") }.joined()
            + ["E", "G", "I"].map { text("\($0)3", "折算浓度(mg/m³)") }.joined() + "</row>"
        for hour in 0..<24 {
            let row = hour + 4
            let so2 = 20.0 + Double(hour), nox = 40.0 + Double(hour)
            rows += #"<row r="\#(row)">"# + text("A\(row)", "E9001") + text("B\(row)", "DA001")
                + #"<c r="C\#(row)" s="1"><v>\#(excelSerial(year: 2026, month: 3, day: 1, hour: hour))</v></c>"#
                + number("D\(row)", "\(so2)") + number("E\(row)", "\(so2 * 1.5)")
                + number("F\(row)", "\(nox)") + number("G\(row)", "\(nox * 1.5)")
                + number("H\(row)", "3") + number("I\(row)", "4.5")
                + number("J\(row)", "13") + number("K\(row)", "120000") + text("L\(row)", "N") + "</row>"
        }
        let merges = ["A1:L1", "A2:A3", "B2:B3", "C2:C3", "D2:E2", "F2:G2", "H2:I2", "J2:J3", "K2:K3", "L2:L3"]
        builder.addSheet("小时数据", rows: rows, after: #"<mergeCells count="\#(merges.count)">"#
            + merges.map { #"<mergeCell ref="\#($0)"/>"# }.joined() + "</mergeCells>")
        return try builder.build()
    }
}
