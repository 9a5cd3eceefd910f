"""What a promotion leaves behind in git and who vouches for it: the records of each
run (:mod:`~pytest_promote.ledger.records`), the approvals and break-glass
authorisations (:mod:`~pytest_promote.ledger.approvals`), a run's attestation and the
trust of the records a later stage reads (:mod:`~pytest_promote.ledger.attestation`),
and the signing primitives they share (:mod:`~pytest_promote.ledger.signing`)."""
