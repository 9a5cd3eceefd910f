"""Signed promotion records: in-toto statements in DSSE envelopes, Ed25519 keys, and
the trust policy (``[tool.promote.trust]``, git's allowed-signers format) that says
whose signatures a stage accepts.

Nothing here imports the crypto library at import time: signing and verifying load
``cryptography`` (the ``[sign]`` extra) when a key is used, and fail closed naming
the extra when it is missing.
"""
