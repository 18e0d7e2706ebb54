"""Sensor readings: the newest of each sensor with its age, statistics over a window, and
the simulated world that publishes readings under `--sim`.

May import agent.config, agent.devices and agent.core.
"""
