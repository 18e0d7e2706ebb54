"""The cloud tier: an OpenAI-compatible client and the planner that turns goals into plans.

May import agent.requests, agent.state and below.
"""
