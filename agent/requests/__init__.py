"""One way in for every request: the pipeline (a job, its id, the gate once, the executor, the
answer), plans run step by step, scheduled actions, reactions to sensor readings.

May import agent.safety and below; not agent.state (a sibling).
"""
