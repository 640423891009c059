"""Writes small but complete .xlsx workbooks into DIR, as a starting corpus for scripts/fuzz.sh
xlsx: shared strings with rich text, inline strings, numbers, booleans, errors, dates by
built-in and custom formats, merged headers, a hidden sheet, date1904."""
import sys, zipfile, os

def workbook(path, date1904=False, merges=True, rich=True):
    sheet = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>
<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="D1" t="inlineStr"><is><t>氧含量(%)</t></is></c></row>
<row r="2"><c r="A2" t="s"><v>2</v></c><c r="B2" t="s"><v>3</v></c><c r="C2" t="s"><v>4</v></c></row>
<row r="3"><c r="A3" s="1"><v>46054.5416666667</v></c><c r="B3"><v>12.5</v></c><c r="C3"><v>1E-3</v></c><c r="D3" t="b"><v>1</v></c><c r="E3" t="e"><v>#DIV/0!</v></c><c r="F3" s="2"><v>46054</v></c></row>
<row r="5"><c r="A5" t="str"><v>合计</v></c><c r="B5"><f>SUM(B3:B4)</f><v>12.5</v></c></row>
</sheetData>""" + ("""<mergeCells count="1"><mergeCell ref="B1:C1"/></mergeCells>""" if merges else "") + "</worksheet>"
    shared_items = ["监测时间", "二氧化硫", "时间", "实测浓度(mg/m³)", "折算浓度(mg/m³)"]
    items = []
    for index, text in enumerate(shared_items):
        if rich and index == 1:
            items.append('<si><r><rPr><b/></rPr><t>二氧化</t></r><r><t>硫</t></r></si>')
        else:
            items.append('<si><t>%s</t></si>' % text)
    shared = ('<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="%d" uniqueCount="%d">%s</sst>'
              % (len(items), len(items), "".join(items)))
    styles = """<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">
<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy&quot;年&quot;m&quot;月&quot;d&quot;日&quot; hh:mm"/></numFmts>
<cellXfs count="3"><xf numFmtId="0"/><xf numFmtId="164"/><xf numFmtId="14"/></cellXfs></styleSheet>"""
    wb = """<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">%s<sheets>
<sheet name="小时数据" sheetId="1" r:id="rId1"/><sheet name="隐藏" sheetId="2" state="hidden" r:id="rId2"/></sheets></workbook>""" % ('<workbookPr date1904="1"/>' if date1904 else '')
    rels = """<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>
<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="/xl/worksheets/sheet2.xml"/>
<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>
<Relationship Id="rId4" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>"""
    root = """<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"""
    types = """<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/></Types>"""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", types)
        z.writestr("_rels/.rels", root)
        z.writestr("xl/workbook.xml", wb)
        z.writestr("xl/_rels/workbook.xml.rels", rels)
        z.writestr("xl/worksheets/sheet1.xml", sheet)
        z.writestr("xl/worksheets/sheet2.xml", sheet.replace("二", "三"))
        z.writestr("xl/sharedStrings.xml", shared)
        z.writestr("xl/styles.xml", styles)

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
workbook(os.path.join(out, "seed-merged.xlsx"))
workbook(os.path.join(out, "seed-1904.xlsx"), date1904=True, merges=False)
workbook(os.path.join(out, "seed-plain.xlsx"), rich=False)
