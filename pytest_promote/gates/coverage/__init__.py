"""The coverage gate: the gate, the data plugin that measures the run, its worker and shares."""
