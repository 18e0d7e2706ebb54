"""The whole picture of the robot now (`P/state`), answers to state questions from it, and what
the journal says about the daemon's own life (`story`: starting, online, stopped).

May import agent.safety and below.
"""
