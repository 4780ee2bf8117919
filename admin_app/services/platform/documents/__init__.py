"""Documents a user downloads (`files`: PDF, ZIP, CSV, XLSX, text, file names, each export audited),
the writers behind them (`pdf`, `spreadsheets`) and gap-free numbering (`numbering`)."""

from admin_app.services.platform.documents.files import (
    CSV_MIMETYPE,
    PDF_MIMETYPE,
    XLSX_MIMETYPE,
    ZIP_MIMETYPE,
    Document,
    Export,
    csv_document,
    file_name,
    pdf_document,
    pdf_zip_document,
    streamed_csv_document,
    text_document,
    workbook_document,
    xlsx_document,
)

__all__ = [
    "CSV_MIMETYPE",
    "PDF_MIMETYPE",
    "XLSX_MIMETYPE",
    "ZIP_MIMETYPE",
    "Document",
    "Export",
    "csv_document",
    "file_name",
    "pdf_document",
    "pdf_zip_document",
    "streamed_csv_document",
    "text_document",
    "workbook_document",
    "xlsx_document",
]
