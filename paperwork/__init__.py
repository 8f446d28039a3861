"""The files we read and write (XLSX, CSV, DOCX, PNG, HTML): they use the domain in models/."""
