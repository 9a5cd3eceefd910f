"""The promotion as a picture: a self-contained HTML page (the run's scorecard, the
ledger's stage x commit history and the figures' trends) and a shields-style badge.

Both are drawn from data alone (a JSON report, ledger records), so
``pytest --promote-html=DIR`` and ``pytest-promote report html`` show the same page.
"""
