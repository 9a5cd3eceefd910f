"""The promotion ledger: each run's outcome as a git note on the commit.

``records`` reads and writes the notes; ``sync`` shares them with a remote; ``status``
answers where a commit stands; ``approvals`` is the data model of sign-offs.
"""
