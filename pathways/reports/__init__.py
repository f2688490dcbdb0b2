"""Renderers: analysis results as text, CSV, HTML and network-view data.

Presentation only; the figures come from :mod:`pathways.analysis`.  Nothing here reads a
store, writes a file or imports Dash:

- :mod:`~pathways.reports.tables`: rows as a terminal table, JSON or CSV text;
- :mod:`~pathways.reports.render_gaps`: the gap report (text, CSV, one HTML file);
- :mod:`~pathways.reports.render_consortia`: consortium suggestions (text, CSV, printable HTML);
- :mod:`~pathways.reports.network_views`: results as dash-cytoscape elements and chart text.
"""
