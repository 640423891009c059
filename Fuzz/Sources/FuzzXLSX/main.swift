import FuzzSupport
import EnvMonXLSX
import Foundation

/// A workbook from arbitrary bytes (the corpus starts from real .xlsx files): open it, list its
/// sheets, read every row of every sheet with merged headers filled. XLSXErrors are refusals;
/// the limits keep memory bounded.
@_cdecl("FuzzXLSX_main")
public func entry(argc: Int32, argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runFuzzer(argc: argc, argv: argv, fuzz)
}

func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data else { return 0 }
    let bytes = Data(bytes: data, count: size)
    do {
        let workbook = try XLSXWorkbook(data: bytes)
        for sheet in workbook.sheets {
            _ = try? workbook.merges(sheet: sheet)
            var reader = try workbook.rows(sheet: sheet, fillMergedHeaders: true)
            var count = 0
            while let row = try reader.next(), count < 100_000 {
                count += row.cells.count + 1
            }
        }
    } catch {
        _ = "\(error)"
    }
    return 0
}
