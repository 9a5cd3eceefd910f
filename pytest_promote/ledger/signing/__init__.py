"""Signing primitives: in-toto statements in DSSE envelopes, Ed25519 keys, and git's
allowed-signers format. Whose signatures a stage accepts is the policy's
(:mod:`pytest_promote.policy.trust`).

Nothing here imports the crypto library at import time: signing and verifying load
``cryptography`` (the ``[sign]`` extra) when a key is used, and fail closed naming
the extra when it is missing.
"""
