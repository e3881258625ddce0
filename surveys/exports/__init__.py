"""Response exports (issue 16): a survey's responses as a streamed CSV, or as an XLSX (or a
very large CSV) file a worker writes, with a progress bar and an expiring download link.

params     the options and filters, read from a query string and checked
selectors  who may be named; what small groups withhold
copy       PostgreSQL: the CSV rows written by the database (COPY), two connections at once
rows       elsewhere: the rows from one SQL pivot, finished in Python
files      the rows as CSV text or an XLSX workbook
services   file jobs queued, written, expired; exports recorded in the audit log
tasks      the worker's side
views      the staff pages: export page, streamed CSV, job progress, download
"""
