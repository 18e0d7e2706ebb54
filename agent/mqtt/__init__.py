"""MQTT in and out: the connection, inbound messages read once, everything the daemon
publishes (results, records, status, device state, schedules), Home Assistant discovery.

May import agent.interpret, agent.sensing, agent.config, agent.devices and agent.core.
"""
