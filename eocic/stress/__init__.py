"""Cluster stress test: regional exposure to employment (or output) shocks by NACE division."""
