"""The promotion policy: ``[tool.promote]`` read into stages, gates and thresholds.

``load`` reads it into a frozen ``Policy``; ``schema`` turns a gate's table into its options;
``overrides``, ``freeze``, ``stages``, ``components`` and ``trust`` each read one part of it.
"""
