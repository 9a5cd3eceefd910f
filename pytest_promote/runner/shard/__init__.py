"""Sharded promotion: each CI job's bundle (:mod:`.bundle`) and the final job's
judgement of their union as one suite (:mod:`.union`)."""
