"""reeproc property data: CSV tables with units, sources and confidence flags.

This directory is installed as the package ``reeproc.property_data``; read it with
``reeproc.data.load_table(name)``.
"""
