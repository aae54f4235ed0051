"""Units and the dispatch catalogue as an Excel workbook (导入导出): export, and all-or-nothing import."""
