"""The deterministic safety layer: the gate every action passes, the executor that bounds and
watches every output, the e-stop and its latch, signatures and the ids already seen.

May import agent.mqtt and below; never the requests, text or cloud above it.
"""
