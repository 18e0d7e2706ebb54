"""Device kinds and their drivers on gpiozero: what each kind can do, and the simulated pins.

May import agent.core only; the config check, the gate, the interpreter and the daemon read it.
"""
