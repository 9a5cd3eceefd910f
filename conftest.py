"""The plugin's own tests drive pytest the way users do, through pytester."""

# pytester's in-process runs restore sys.modules afterwards, so a module first
# imported inside one is imported again by the next. Load these once, up front:
# coverage.py's C tracer cannot be imported twice, and re-importing hypothesis
# (its pytest plugin loads it in every run) costs most of a second each time.
import coverage  # noqa: F401
import hypothesis  # noqa: F401

pytest_plugins = ["pytester"]
