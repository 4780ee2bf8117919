"""Plotly figure builders: plain series in, a `plotly.graph_objects.Figure` out.

Nothing here reads the database, the request or the language: `services` compute the numbers,
the views translate the titles, and both hand them in (DESIGN.md: who may import whom).
"""
