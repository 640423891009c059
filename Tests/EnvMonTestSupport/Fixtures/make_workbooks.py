#!/usr/bin/env python3
"""Writes the .xlsx fixtures of the workbook tests with openpyxl (Debian: python3-openpyxl),
a writer other than ours, laid out as bureau staff's workbooks are: an instructions sheet first,
a title merged over the columns, a blank row, Chinese headers, date-time cells formatted as
dates, a number stored as text, a value that is not a number, and a total row.

Run from this folder: /usr/bin/python3 make_workbooks.py   (the .xlsx files are committed)
"""
import datetime

from openpyxl import Workbook
from openpyxl.styles import Font


def emissions(path="emissions_workbook.xlsx", title="城东热电有限公司 2026年3月 废气小时监测数据"):
    book = Workbook()
    notes = book.active
    notes.title = "填报说明"
    notes["A1"] = "本表按小时填报，监测值单位 mg/m³。"
    notes["A2"] = "如有疑问请联系监测科。"

    sheet = book.create_sheet("小时数据")
    sheet.merge_cells("A1:G1")
    sheet["A1"] = title
    sheet["A1"].font = Font(bold=True)
    header = ["企业编码", "企业名称", "排放口编码", "污染物", "监测时间", "监测值", "排放限值"]
    sheet.append([])  # row 2 stays blank
    for column, name in enumerate(header, start=1):
        sheet.cell(row=3, column=column, value=name)
    row = 4
    for hour in range(24):
        value = 20 + hour / 2
        sheet.cell(row=row, column=1, value="E9001")
        sheet.cell(row=row, column=2, value="城东热电有限公司")
        sheet.cell(row=row, column=3, value="DA001")
        sheet.cell(row=row, column=4, value="二氧化硫")
        stamp = sheet.cell(row=row, column=5, value=datetime.datetime(2026, 3, 1, hour, 0))
        stamp.number_format = "yyyy-mm-dd hh:mm"
        # One number stored as text, as pasted from another system.
        sheet.cell(row=row, column=6, value=str(value) if hour == 5 else value)
        sheet.cell(row=row, column=7, value=35)
        row += 1
    # A value that is not a number: rejected, named by its cell (小时数据!F28).
    for column, value in enumerate(["E9001", "城东热电有限公司", "DA001", "二氧化硫", None, "仪器故障", 35], start=1):
        sheet.cell(row=row, column=column, value=value)
    stamp = sheet.cell(row=row, column=5, value=datetime.datetime(2026, 3, 2, 0, 0))
    stamp.number_format = "yyyy-mm-dd hh:mm"
    row += 1
    sheet.cell(row=row, column=1, value="合计")
    sheet.cell(row=row, column=6, value="=SUM(F4:F27)")
    book.save(path)


if __name__ == "__main__":
    emissions()
    # The same readings under another title: other bytes, so not a duplicate upload.
    emissions("emissions_workbook_revised.xlsx", "城东热电有限公司 2026年3月 废气小时监测数据（修订）")
