"""The plugin's own tests drive pytest the way users do, through pytester."""

pytest_plugins = ["pytester"]
