import Testing
@testable import EnvMonIngest

@Suite struct CellValueTests {
    @Test(arguments: ["", "  ", "—", "-", "--", "*", "/", "N/A", "n/a", "——", "－", "＊"])
    func nullTokensAreNullNeverZero(token: String) {
        #expect(CellValue(token) == .null)
        #expect(CellValue.isNull(token))
    }

    @Test func missingCellIsNull() {
        #expect(CellValue(nil) == .null)
    }

    @Test func notDetectedIsNullButBelowDetection() {
        #expect(CellValue("未检出") == .notDetected)
    }

    @Test(arguments: [
        ("12", "12"), ("12.50", "12.5"), ("0.001", "0.001"), (".5", "0.5"), ("-3.2", "-3.2"),
        ("1,234.5", "1234.5"), ("12,345,678", "12345678"), ("1.2E-3", "0.0012"), ("007", "7"),
        ("0", "0"), ("-0", "0"), ("１２.５", "12.5"), (" 8.1 ", "8.1"),
    ])
    func numbersReadAsPlainDecimal(raw: String, plain: String) throws {
        guard case .number(let value, let below) = CellValue(raw) else {
            Issue.record("\(raw) not read as a number")
            return
        }
        #expect(value.plain == plain)
        #expect(!below)
    }

    @Test(arguments: [("<0.01", "0.01"), ("＜0.05", "0.05"), ("< 2", "2"), ("0.01L", "0.01")])
    func belowDetectionKeepsTheNumber(raw: String, plain: String) {
        guard case .number(let value, let below) = CellValue(raw) else {
            Issue.record("\(raw) not read as below detection")
            return
        }
        #expect(value.plain == plain)
        #expect(below)
    }

    @Test(arguments: ["abc", "1.2.3", "12,34", "1,2345", "1e", "--5", "12mg", "0x10", "1 000"])
    func nonNumbersAreInvalid(raw: String) {
        #expect(CellValue(raw) == .invalid)
    }

    @Test(arguments: [("0.025", -3, "0.000025"), ("35", 3, "35000"), ("1.5", 2, "150"), ("12.3", 4, "123000"),
                      ("150", -4, "0.015")])
    func unitScalingIsExact(raw: String, power: Int, plain: String) throws {
        let value = try #require(DecimalText(parsing: raw))
        #expect(value.scaled(by: power).plain == plain)
    }

    @Test(arguments: ["1.2E+17", "9.13101E+17", "1.23457e+15"])
    func excelScientificIdsAreRecognised(id: String) {
        #expect(RowCells.looksLikeExcelScientific(id))
    }

    @Test(arguments: ["91310115MA1H7AB12C", "DA001", "12E3A", "E+17", "W001"])
    func ordinaryIdsAreNotScientific(id: String) {
        #expect(!RowCells.looksLikeExcelScientific(id))
    }
}
