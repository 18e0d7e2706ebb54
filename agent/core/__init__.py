"""Values every part shares: the clock, topic names, the protocol's values, a decision and
its renderings, the journal's fields, secrets from files, a worker thread serving a queue,
'did you mean' for a mistyped name.

May import nothing else of agent: everything may import it.
"""
