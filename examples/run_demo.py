"""`make demo`: placeholder until the statistics core lands (replaced by the worked example)."""

print("metareview demo: the statistics core is being built")
