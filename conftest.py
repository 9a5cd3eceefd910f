"""The plugin's own tests drive pytest the way users do, through pytester."""

# pytester's in-process runs restore sys.modules afterwards; coverage.py's C tracer
# cannot be imported a second time, so it must be loaded before the first such run.
import coverage  # noqa: F401

pytest_plugins = ["pytester"]
