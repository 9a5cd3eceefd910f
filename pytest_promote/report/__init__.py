"""The verdict's outputs: ``write`` writes each file a run asked for; one module per format
(``json_report``, ``markdown``, ``junit``, ``sarif``, ``codequality``, ``github``, ``terminal``).
"""
