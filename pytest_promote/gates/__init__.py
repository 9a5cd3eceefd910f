"""One module per gate kind; ``builtin`` registers them through the hook a third party uses.

``tool`` is the base of the gates that run a tool, ``environ`` the environment of the
processes they start; ``coverage`` and ``secrets`` are packages for the two gates with
engines of their own.
"""
