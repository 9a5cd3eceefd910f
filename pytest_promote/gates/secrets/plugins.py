"""A linear twin of detect-secrets' IBM Cloud IAM plugin, finding exactly what it finds.

Loaded by path in the scan's worker processes only (never imported by the pytest
plugin), and installed through detect-secrets' own settings: the plugin's entry
gets a ``path`` (``file://`` this module), as for any custom plugin, and the
class here, having the same name and secret type, takes the original's place.

Why: the original's one regular expression joins the keyword and the value with
``(?: *)(?:=|:|:=|=>| +|::)(?: *)``: three ways to share out a run of spaces, so
a keyword such as ``token`` followed by a long run of spaces (a wide table row)
costs time cubic in the run, milliseconds a row, more than every other plugin
together. The twin's expression is the original's with that separator written
``(?: *+(?:=|:|:=|=>|::) *+| ++)``, which finds the same matches:

- both match exactly the same strings (spaces, an operator, spaces; or spaces
  only, at least one);
- what follows the separator (an optional quote, then the value) never begins
  with a space, ``=`` or ``:``; so, from a given keyword end, at most one end of
  the separator can lead to a match: the end of the space run after the
  operator if the first non-space is an operator (``:=`` parsed as ``:`` leaves
  ``=``, which fails, and so on), else the end of the run itself; and the
  possessive runs give up nothing that could have led anywhere;
- so every attempt at every position succeeds or fails as the original's does,
  with the same captured value, and ``findall`` returns the same list.

``usable()`` checks that the installed detect-secrets still has the expression
this reasoning is about; the tests compare the two on random lines.
"""

from __future__ import annotations

import re
from typing import ClassVar

from detect_secrets.plugins.ibm_cloud_iam import IbmCloudIamDetector as _Original

# The original's expression, as detect-secrets 1.5 builds it; if it changes, the
# twin is not used.
_QUOTE = r"""(?:"|\'|)"""
_ANALYSED = (
    rf"(?:(?<=\W)|(?<=^))(?:\[|){_QUOTE}(?:ibm(?:_|-|)cloud(?:_|-|)iam|cloud(?:_|-|)iam|"
    r"ibm(?:_|-|)cloud|ibm(?:_|-|)iam|ibm|iam|cloud|)(?:_|-|)(?:api|)(?:_|-|)"
    rf"(?:key|pwd|password|pass|token){_QUOTE}(?:\]|)(?: *)(?:=|:|:=|=>| +|::)(?: *)"
    rf"{_QUOTE}([a-zA-Z0-9_\-]{{44}}(?![a-zA-Z0-9_\-])){_QUOTE}"
)
_SEPARATOR = r"(?: *)(?:=|:|:=|=>| +|::)(?: *)"
_LINEAR_SEPARATOR = r"(?: *+(?:=|:|:=|=>|::) *+| ++)"


def usable() -> bool:
    """Whether the installed original is the one this twin was proven against."""
    # The class's own list (it is typed as an abstract property on the base class).
    return [(r.pattern, r.flags) for r in vars(_Original)["denylist"]] == [
        (_ANALYSED, re.IGNORECASE | re.UNICODE)
    ]


class IbmCloudIamDetector(_Original):
    """Exactly detect-secrets' ``IbmCloudIamDetector``, in linear time."""

    TWIN = True  # how the worker tells it loaded this class, not the original
    denylist: ClassVar[list[re.Pattern[str]]] = [
        re.compile(_ANALYSED.replace(_SEPARATOR, _LINEAR_SEPARATOR), re.IGNORECASE)
    ]


#: detect-secrets plugins (by settings name) that have a twin here.
PLUGINS = ("IbmCloudIamDetector",)
