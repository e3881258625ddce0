"""Response exports (issue 16): a survey's responses as a streamed CSV, or as an XLSX (or a
very large CSV) file a worker writes, with a progress bar and an expiring download link.

params     the options and filters, read from a query string and checked
selectors  the rows: one SQL pivot read through a server-side cursor; who may be named;
           what small groups withhold
files      the rows as CSV text or an XLSX workbook
services   file jobs queued, written, expired; exports recorded in the audit log
tasks      the worker's side
views      the staff pages: export page, streamed CSV, job progress, download
"""
