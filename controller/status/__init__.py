"""The daemon's status page: `/status` (HTML) and `/status.json`.

view.py builds the view model (pure), page.py renders it as HTML, tracker.py keeps what the
daemon learned (cycles, writes, API calls), routes.py serves both documents.
"""
