import EnvMonTestSupport
import Foundation
import Testing
import ZIPFoundation
@testable import EnvMonXLSX

@Suite struct StreamingTests {
    /// A 100k-row sheet: rows arrive while the part is still being decompressed, and reading the
    /// first row touches only the first chunks.
    @Test(.timeLimit(.minutes(10))) func hundredThousandRowsStream() throws {
        var rowsXML = ""
        rowsXML.reserveCapacity(100_000 * 40)
        for number in 1...100_000 {
            // Row numbers by attribute, cells by position; a second, shared-string cell every 1000 rows.
            rowsXML += "<row r=\"\(number)\"><c><v>\(number)</v></c>"
            rowsXML += number % 1000 == 0 ? "<c t=\"s\"><v>\(number / 1000 % 2)</v></c></row>" : "</row>"
        }
        let data = try workbook(rows: rowsXML, strings: ["甲", "乙"])
        let workbook = try XLSXWorkbook(data: data)
        let sheetSize = try #require(try Archive(data: data, accessMode: .read)["xl/worksheets/sheet1.xml"]).uncompressedSize
        #expect(sheetSize > 3_000_000)

        var reader = try workbook.rows(sheet: workbook.sheets[0])
        let first = try #require(try reader.next())
        #expect(first.number == 1 && first[0] == .number(1, text: "1"))
        // The first row came from the first chunk, not from a parse of the whole part.
        #expect(reader.bytesRead <= 2 * PartReader.chunkSize)

        var count = 1
        var sum = 1.0
        var maxRead = 0
        while let row = try reader.next() {
            count += 1
            #expect(row.number == count)
            sum += row[0].number ?? 0
            if count == 1000 { #expect(row[1] == .text("乙")) }
            if count == 50_000 { maxRead = reader.bytesRead }
        }
        #expect(maxRead < Int(sheetSize), "half-way through, only part of the sheet has been read")
        #expect(reader.bytesRead == Int(sheetSize))
        #expect(count == 100_000)
        #expect(sum == 5_000_050_000)
    }

    @Test func stoppingEarlyIsCheap() throws {
        var rowsXML = ""
        for number in 1...20_000 { rowsXML += "<row r=\"\(number)\"><c r=\"A\(number)\"><v>\(number)</v></c></row>" }
        // Garbage after the first rows would fail a whole-part parse; a streaming reader never gets there.
        rowsXML += "<row r=\"20001\"><c r=\"A20001\" t=\"s\"><v>999</v></c></row>"
        let workbook = try XLSXWorkbook(data: try workbook(rows: rowsXML))
        var reader = try workbook.rows(sheet: workbook.sheets[0])
        for expected in 1...10 { #expect(try reader.next()?.number == expected) }
        var all = try workbook.rows(sheet: workbook.sheets[0])
        #expect(throws: XLSXError.self) { while try all.next() != nil {} }
    }
}

@Suite struct SafetyTests {
    private func expectError(_ code: XLSXError.Code, _ body: () throws -> Void) {
        #expect {
            try body()
        } throws: { error in
            (error as? XLSXError)?.code == code
        }
    }

    @Test func legacyXLSIsRefusedWithAdvice() throws {
        var ole = Data([0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1])
        ole.append(Data(repeating: 0, count: 504))
        #expect(XLSXError.sniff(ole) == .legacyXLS)
        #expect(XLSXError.sniff(Data("PK\u{3}\u{4}".utf8)) == .xlsx)
        #expect(XLSXError.sniff(Data("a,b\n".utf8)) == .other)
        #expect(XLSXError.sniff(Data()) == .other)
        #expect {
            _ = try XLSXWorkbook(data: ole)
        } throws: { error in
            guard let error = error as? XLSXError else { return false }
            return error.code == .legacyWorkbook && error.message.contains("save it as .xlsx (Excel Workbook) and upload again")
        }
    }

    @Test func hiddenSheetsAreMarked() throws {
        var builder = WorkbookBuilder()
        builder.addSheet("数据", rows: "")
        var data = try builder.build()
        let entries = builder.entries().map { entry in
            entry.0 == "xl/workbook.xml"
                ? (entry.0, Data(String(decoding: entry.1, as: UTF8.self).replacingOccurrences(of: "sheetId=", with: "state=\"hidden\" sheetId=").utf8))
                : entry
        }
        data = try WorkbookBuilder.zip(entries)
        let workbook = try XLSXWorkbook(data: data)
        #expect(workbook.sheets.map(\.isHidden) == [true])
    }

    @Test func notAWorkbook() throws {
        expectError(.notXLSX) { _ = try XLSXWorkbook(data: Data("站点,时间\n1,2\n".utf8)) }
        expectError(.notXLSX) { _ = try XLSXWorkbook(data: Data()) }
        let otherZip = try WorkbookBuilder.zip([("word/document.xml", Data("<w/>".utf8))])
        expectError(.missingPart) { _ = try XLSXWorkbook(data: otherZip) }
    }

    @Test func truncatedFiles() throws {
        let data = try workbook(rows: String(repeating: "<row><c><v>1.5</v></c></row>", count: 2000))
        expectError(.corruptArchive) { _ = try XLSXWorkbook(data: data.prefix(data.count / 2)) }
        expectError(.corruptArchive) { _ = try XLSXWorkbook(data: data.prefix(data.count - 10)) }
    }

    /// A deflate stream cut short inside an intact archive must fail, not loop waiting for input.
    @Test(.timeLimit(.minutes(10))) func truncatedCompressedPart() throws {
        let rows = (1...3000).map { "<row r=\"\($0)\"><c><v>\($0 * 7)</v></c></row>" }.joined()
        let data = try workbook(rows: rows)
        let sheetEntry = try #require(try Archive(data: data, accessMode: .read)["xl/worksheets/sheet1.xml"])
        let damaged = WorkbookBuilder.patchCompressedSize(
            of: "xl/worksheets/sheet1.xml", in: data, to: UInt32(sheetEntry.compressedSize / 2))
        let workbook = try XLSXWorkbook(data: damaged)
        var reader = try workbook.rows(sheet: workbook.sheets[0])
        #expect {
            while try reader.next() != nil {}
        } throws: { error in
            guard let error = error as? XLSXError else { return false }
            return error.code == .corruptArchive && error.sheet == "Sheet1" && error.message.contains("ends early")
        }
    }

    @Test func truncatedSheetXML() throws {
        var builder = WorkbookBuilder()
        builder.sheets.append(WorkbookBuilder.Sheet(
            name: "s", xml: "<worksheet><sheetData><row r=\"1\"><c r=\"A1\"><v>1</v></c></row><row r=\"2\"><c r=\"A2\"><v>2",
            target: "worksheets/sheet1.xml", part: "xl/worksheets/sheet1.xml"))
        #expect {
            _ = try readAll(builder.build())
        } throws: { error in
            guard let error = error as? XLSXError else { return false }
            return error.code == .malformedXML && error.sheet == "s" && error.row == 2 && error.message.contains("sheet s row 2")
        }
    }

    @Test func zipBombIsRefused() throws {
        var builder = WorkbookBuilder()
        builder.addSheet("bomb", rows: "<row r=\"1\"><c r=\"A1\" t=\"inlineStr\"><is><t>" + String(repeating: "0", count: 8 << 20) + "</t></is></c></row>")
        let data = try builder.build()
        #expect(data.count < 200_000)
        #expect {
            _ = try readAll(data)
        } throws: { error in
            (error as? XLSXError)?.limit == .compressionRatio
        }
        var small = XLSXLimits()
        small.maxPartSize = 1 << 20
        #expect {
            _ = try XLSXWorkbook(data: data, limits: small).rows(sheet: XLSXSheetInfo(name: "bomb", index: 0, isHidden: false, part: "xl/worksheets/sheet1.xml"))
        } throws: { error in
            (error as? XLSXError)?.limit == .partSize
        }
    }

    @Test func limitsOnStringsRowsAndText() throws {
        var limits = XLSXLimits()
        limits.maxSharedStrings = 2
        expectError(.limitExceeded) {
            _ = try XLSXWorkbook(data: workbook(rows: "", strings: ["a", "b", "c"]), limits: limits)
        }
        limits = XLSXLimits()
        limits.maxCellsPerRow = 3
        let wide = try workbook(rows: "<row>" + String(repeating: "<c><v>1</v></c>", count: 4) + "</row>")
        #expect {
            let workbook = try XLSXWorkbook(data: wide, limits: limits)
            var reader = try workbook.rows(sheet: workbook.sheets[0])
            _ = try reader.next()
        } throws: { error in
            (error as? XLSXError)?.limit == .cellsPerRow
        }
        let long = try workbook(rows: "<row><c t=\"inlineStr\"><is><t>" + String(repeating: "长", count: 32768) + "</t></is></c></row>")
        #expect {
            _ = try readAll(long)
        } throws: { error in
            (error as? XLSXError)?.limit == .cellTextLength
        }
    }

    @Test func randomBytesNeverCrash() throws {
        var generator = SystemRandomNumberGenerator()
        let valid = try workbook(rows: "<row><c t=\"inlineStr\"><is><t>x</t></is></c><c><v>2</v></c></row>", strings: ["a"])
        for round in 0..<300 {
            var data: Data
            switch round % 3 {
            case 0:
                data = Data((0..<Int.random(in: 0..<600, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) })
            case 1:
                data = valid
                for _ in 0..<Int.random(in: 1...8, using: &generator) {
                    data[Int.random(in: 0..<data.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
                }
            default:
                data = valid.prefix(Int.random(in: 0..<valid.count, using: &generator))
                data.append(valid.suffix(Int.random(in: 0..<200, using: &generator)))
            }
            do {
                let workbook = try XLSXWorkbook(data: data)
                for sheet in workbook.sheets {
                    _ = try? workbook.merges(sheet: sheet)
                    guard var reader = try? workbook.rows(sheet: sheet) else { continue }
                    while let _ = try reader.next() {}
                }
            } catch {
                // Any XLSXError is fine; crashing or hanging is not.
            }
        }
    }

    @Test func randomDeflateStreamsFailCleanly() throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            let bytes = Data((0..<Int.random(in: 0..<300, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) })
            var inflater = Inflater(source: bytes, range: 0..<bytes.count)
            var output: [UInt8] = []
            do {
                while try inflater.read(into: &output, wanted: 65536) {
                    if output.count > 10_000_000 { break }
                }
            } catch {}
        }
    }
}
