"""The secrets gate: the gate, the parallel scan engine, its line filters, plugins and worker."""
