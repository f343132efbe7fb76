"""The audit log's pages: the list and one event (log.py), the chain check (chain.py)
and the export (export.py)."""
