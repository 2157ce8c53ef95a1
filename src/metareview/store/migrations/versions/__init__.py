"""Migration scripts. Fixed revision ids: 0001_records, 0002_screening, 0003_extraction."""
