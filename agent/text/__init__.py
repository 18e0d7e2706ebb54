"""Text requests on `P/ask`: the service (its queue, the local model's life) and the decision
an interpretation leads to by its form and the thresholds.

May import agent.cloud and below.
"""
